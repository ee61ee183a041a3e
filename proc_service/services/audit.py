"""The audit trail (contract §5): the one writer of audit rows, called in the transaction of the
change it records, and audit search."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from sqlalchemy.orm import Session

from .. import query
from ..attributes import AUDIT
from ..errors import ApiError, audit_text
from ..models import AuditLog
from ..values import Invalid, timestamp
from . import Actor, Scope, transaction

CREATE, UPDATE, DELETE = 1, 2, 3
VERBS = {CREATE: "create", UPDATE: "update", DELETE: "delete"}


def record(
    sess: Session,
    scope: Scope,
    actor: Actor,
    op_type: int,
    target: str,
    inst_id: int,
    pre: dict,
    cur: dict,
    desc: str | None = None,
) -> None:
    """One audit row; ``desc`` defaults to "<verb> <target>" ("update set")."""
    sess.add(
        AuditLog(
            bk_supplier_account=scope.account,
            bk_biz_id=scope.biz_id,
            op_type=op_type,
            op_target=target,
            inst_id=inst_id,
            op_desc=desc or f"{VERBS[op_type]} {target}",
            operator=actor.operator,
            op_from=actor.op_from,
            op_time=datetime.now(UTC),
            request_id=actor.request_id,
            content={"pre_data": pre, "cur_data": cur},
        )
    )


def search(
    sess: Session, account: str, body: dict, regex_timeout_ms: int, zone: tzinfo, lang: str
) -> dict:
    """``body`` has been through AuditSearchSchema. Rows of one supplier account only; a
    $regex condition gets the same time limit as in search_process. A time without an offset
    is in ``zone``; op_desc is answered in ``lang``."""
    found = query.build(
        AUDIT,
        [AuditLog.bk_supplier_account == account],
        condition=body["condition"],
        fields=[],
        start=body["start"],
        limit=body["limit"],
        sort=body["sort"],
        special={"op_time": lambda value: _time_range(value, zone)},
        prefix="",
    )
    result = transaction.search(sess, found, regex_timeout_ms)
    for row in result["info"]:
        row["op_desc"] = audit_text(row["op_desc"], lang)
    return result


def _time_range(value: object, zone: tzinfo) -> list:
    """op_time as [from, to]: ISO 8601, both ends inclusive, null or "" for an open end (the
    v3.2 history tab sends ["", ""]); a time without an offset is in ``zone``."""
    if not isinstance(value, list) or len(value) != 2:
        raise ApiError(1199006, "op_time")
    try:
        low, high = (None if v is None or v == "" else timestamp(v, zone) for v in value)
    except Invalid:
        raise ApiError(1199006, "op_time") from None
    if low is not None and high is not None and low > high:
        raise ApiError(1199006, "op_time")
    tests = []
    if low is not None:
        tests.append(AuditLog.op_time >= low)
    if high is not None:
        tests.append(AuditLog.op_time <= high)
    return tests
