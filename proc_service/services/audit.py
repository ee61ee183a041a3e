"""The audit trail (contract §5): rows added in the transaction of the change they record, and
audit search."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from marshmallow import ValidationError
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session

from .. import query
from ..attributes import Attribute
from ..errors import ApiError
from ..models import AuditLog, UTCDateTime
from ..schemas import timestamp
from . import Actor, Scope, shared

CREATE, UPDATE, DELETE = 1, 2, 3
VERBS = {CREATE: "create", UPDATE: "update", DELETE: "delete"}
DEFAULT_LIMIT = 20
DEFAULT_SORT = "-op_time"  # newest first
FIELDS = (
    "id",
    "bk_supplier_account",
    "bk_biz_id",
    "op_type",
    "op_target",
    "inst_id",
    "op_desc",
    "operator",
    "op_from",
    "op_time",
    "request_id",
    "content",
)
# Condition keys besides op_time, typed so that they take the operators search_process takes.
CONDITIONS = {
    a.id: a
    for a in (
        Attribute("bk_biz_id", "业务ID", "business id", "int"),
        Attribute("op_type", "操作类型", "operation type", "int"),
        Attribute("op_target", "操作对象", "operation target", "singlechar"),
        Attribute("inst_id", "实例ID", "instance id", "int"),
        Attribute("operator", "操作者", "operator", "singlechar"),
    )
}
SORTABLE = tuple(f for f in FIELDS if f != "content")


def record(
    sess: Session,
    scope: Scope,
    actor: Actor,
    *,
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


def record_many(
    sess: Session,
    scope: Scope,
    actor: Actor,
    *,
    op_type: int,
    target: str,
    changes: list[tuple[int, dict, dict]],
) -> None:
    """One audit row per (inst_id, pre, cur), as ``record`` writes them, in one INSERT …
    SELECT over a JSON array (issue 7: a batch of 1000 is one statement, not 1000), the rows
    in the order given."""
    if not changes:
        return
    params = {
        "account": scope.account,
        "biz": scope.biz_id,
        "op_type": op_type,
        "target": target,
        "desc": f"{VERBS[op_type]} {target}",
        "operator": actor.operator,
        "op_from": actor.op_from,
        "op_time": datetime.now(UTC),
        "request_id": actor.request_id,
        # Every row's own part as one JSON parameter: 11 parameters per row made PostgreSQL
        # take 150-500 ms to bind a batch of 1000; one array of 1000 takes about 15 ms.
        "rows": json.dumps(
            [
                {"inst_id": inst_id, "content": {"pre_data": pre, "cur_data": cur}}
                for inst_id, pre, cur in changes
            ],
            ensure_ascii=False,
        ),
    }
    postgres = sess.get_bind().dialect.name == "postgresql"
    sess.execute(_MANY_PG if postgres else _MANY_SQLITE, params)


_MANY = (
    "INSERT INTO audit_log (bk_supplier_account, bk_biz_id, op_type, op_target, inst_id,"
    " op_desc, operator, op_from, op_time, request_id, content)"
    " SELECT :account, :biz, :op_type, :target, {inst_id}, :desc, :operator, :op_from,"
    " :op_time, :request_id, {content} FROM {elements} ORDER BY {position}"
)
_MANY_PG = text(
    _MANY.format(
        inst_id="CAST(e.value ->> 'inst_id' AS BIGINT)",
        content="e.value -> 'content'",
        elements="jsonb_array_elements(CAST(:rows AS JSONB)) WITH ORDINALITY AS e(value, n)",
        position="e.n",
    )
).bindparams(bindparam("op_time", type_=UTCDateTime()))
_MANY_SQLITE = text(
    _MANY.format(
        inst_id="json_extract(e.value, '$.inst_id')",
        content="json_extract(e.value, '$.content')",
        elements="json_each(:rows) AS e",
        position="e.key",
    )
).bindparams(bindparam("op_time", type_=UTCDateTime()))


def search(sess: Session, account: str, params: dict, regex_timeout_ms: int = 2000) -> dict:
    """``params`` has been through AuditSearchSchema. Rows of one supplier account only; a
    $regex condition gets the same time limit as in search_process."""
    where = [AuditLog.bk_supplier_account == account]
    regex_fields = []
    for key, value in params["condition"].items():
        if key == "op_time":
            where.extend(_time_range(value))
        elif key in CONDITIONS:
            where.extend(query.filters(CONDITIONS[key], getattr(AuditLog, key), value))
            if isinstance(value, dict) and "$regex" in value:
                regex_fields.append(key)
        else:
            raise ApiError(1199011, key)
    start, limit = query.page_window(params["start"], params["limit"], DEFAULT_LIMIT)
    # An empty sort is the default one, as an empty limit is. Ties (rows of one transaction can
    # share an op_time) are broken by id, in the first key's direction.
    sort = params["sort"] if params["sort"].replace(",", "").strip() else DEFAULT_SORT
    order = query.order(AuditLog, SORTABLE, sort, "id", tie_descending=None)
    page = (
        select(*(getattr(AuditLog, name) for name in FIELDS))
        .where(*where)
        .order_by(*order)
        .offset(start)
        .limit(limit)
    )
    count = select(func.count()).select_from(AuditLog).where(*where)
    found = query.Search(page, count, FIELDS, tuple(regex_fields))
    return shared.search(sess, found, start, regex_timeout_ms)


def _time_range(value: object) -> list:
    """op_time as [from, to]: ISO 8601, both ends inclusive, null for an open end."""
    if not isinstance(value, list) or len(value) != 2:
        raise ApiError(1199006, "op_time")
    try:
        low, high = (None if v is None else timestamp(v) for v in value)
    except ValidationError:
        raise ApiError(1199006, "op_time") from None
    if low is not None and high is not None and low > high:
        raise ApiError(1199006, "op_time")
    tests = []
    if low is not None:
        tests.append(AuditLog.op_time >= low)
    if high is not None:
        tests.append(AuditLog.op_time <= high)
    return tests
