"""Plain service functions: (session, scope, actor, values) -> data. The only place that opens a
transaction; each write and its audit rows commit together."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    """Every process, set and module lives in one (supplier account, business); nothing
    crosses it."""

    account: str
    biz_id: int


@dataclass(frozen=True)
class Actor:
    """Who asked, for the audit trail."""

    operator: str
    op_from: str
    request_id: str
