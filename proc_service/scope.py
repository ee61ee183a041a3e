"""Where a request acts and who asks: the two values every service function takes. A low module
(it imports nothing of ours), so that services, views and counting all read it without importing
each other."""

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
