"""The audit trail (docs/api.md §5): the one writer of audit rows, called in the transaction of the
change it records, and audit search."""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo

import orjson
from sqlalchemy.orm import Session

from ..attributes import AUDIT
from ..data import prepared, query
from ..data.models import AuditLog
from ..data.prepared import Prepared
from ..data.sql import json_array_insert
from ..errors import ApiError
from ..scope import Actor, Scope
from ..values import Invalid, timestamp
from . import events, transaction

AUDIT_LOG = AuditLog.__table__.c  # query.build's statements are of the table's columns

# Audit descriptions (§5): rows store the English text; audit search answers it in the
# request's language. English template -> Chinese template ("%s" a module name).
AUDIT_TEXTS: dict[str, str] = {
    "create process": "创建进程",
    "update process": "更新进程",
    "delete process": "删除进程",
    "create set": "创建集群",
    "update set": "更新集群",
    "delete set": "删除集群",
    "create module": "创建模块",
    "update module": "更新模块",
    "delete module": "删除模块",
    "bind module [%s]": "绑定模块 [%s]",
    "unbind module [%s]": "解绑模块 [%s]",
}
_AUDIT_PATTERNS = [
    (re.compile(re.escape(en).replace("%s", "(.*)"), re.DOTALL), zh)
    for en, zh in AUDIT_TEXTS.items()
]


def audit_text(stored: str, lang: str) -> str:
    """A stored (English) op_desc in ``lang``; a text not in AUDIT_TEXTS stays as it is."""
    if lang == "en":
        return stored
    for pattern, zh in _AUDIT_PATTERNS:
        if match := pattern.fullmatch(stored):
            return zh.replace("%s", match.group(1)) if match.groups() else zh
    return stored


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
    event: bool = True,
) -> None:
    """One audit row; ``desc`` defaults to "<verb> <target>" ("update set")."""
    record_many(
        sess,
        scope,
        actor,
        op_type=op_type,
        target=target,
        changes=[(inst_id, pre, cur)],
        desc=desc,
        event=event,
    )


def record_many(
    sess: Session,
    scope: Scope,
    actor: Actor,
    *,
    op_type: int,
    target: str,
    changes: list[tuple[int, dict, dict]],
    desc: str | None = None,
    event: bool = True,
) -> None:
    """The one writer of audit rows: one per (inst_id, pre, cur), in one INSERT … SELECT over
    a JSON array (issue 7: a batch of 1000 is one statement, not 1000), in the order given.
    ``desc`` defaults to "<verb> <target>" ("update set"). With ``event``, a process, set or
    module change also writes its events (§15), in the same transaction; a binding writes its
    own relation event instead (services/binding.py)."""
    if not changes:
        return
    params = {
        "account": scope.account,
        "biz": scope.biz_id,
        "op_type": op_type,
        "target": target,
        "desc": desc or f"{VERBS[op_type]} {target}",
        "operator": actor.operator,
        "op_from": actor.op_from,
        "op_time": datetime.now(UTC),
        "request_id": actor.request_id,
        "rows": orjson.dumps(
            [
                {"inst_id": inst_id, "content": {"pre_data": pre, "cur_data": cur}}
                for inst_id, pre, cur in changes
            ]
        ).decode(),
    }
    conn = sess.connection()
    dialect = conn.dialect.name
    reader = prepared.on(conn)  # the driver's connection, in this transaction (issue 18)
    if not (event and target in events.INSTANCE_KINDS):
        reader.run(_MANY[dialect], params)
        return
    # Issue 18: each event refers to its audit row rather than copying the images; on
    # PostgreSQL the rows and their events are one statement.
    params["action"] = VERBS[op_type]
    if dialect == "postgresql":
        reader.run(_MANY_AND_EVENTS, params)
        events.record_instances(sess, params, None)
    else:
        ids = [row[0] for row in reader.all(_MANY[dialect], params)]
        events.record_instances(sess, params, ids)


_AUDIT_ROWS = (
    "INSERT INTO audit_log (bk_supplier_account, bk_biz_id, op_type, op_target, inst_id,"
    " op_desc, operator, op_from, op_time, request_id, content)"
    " SELECT :account, :biz, :op_type, :target, {inst_id}, :desc, :operator, :op_from,"
    " :op_time, :request_id, {content} FROM {elements} ORDER BY {position}"
)
_ARRAY = {"ints": ("inst_id",), "objects": ("content",), "time": "op_time"}
_MANY = {
    dialect: Prepared(stmt)
    for dialect, stmt in json_array_insert(_AUDIT_ROWS + " RETURNING id", **_ARRAY).items()
}
# The audit rows, then their events as the rows of a data-modifying CTE, in the rows' order.
# Migration 0006's statement trigger on events still runs before any event id is drawn.
_MANY_AND_EVENTS = Prepared(
    json_array_insert(
        f"WITH a AS ({_AUDIT_ROWS} RETURNING id, inst_id) "
        + events.INSTANCES.format(audit_rows="a ORDER BY a.id"),
        **_ARRAY,
    )["postgresql"]
)


def search(
    sess: Session, account: str, body: dict, regex_timeout_ms: int, zone: tzinfo, lang: str
) -> dict:
    """``body`` has been through AuditSearchSchema. Rows of one supplier account only; a
    $regex condition gets the same time limit as in search_process. A time without an offset
    is in ``zone``; op_desc is answered in ``lang``."""
    found = query.build(
        AUDIT,
        {"bk_supplier_account": account},
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
        tests.append(AUDIT_LOG.op_time >= low)
    if high is not None:
        tests.append(AUDIT_LOG.op_time <= high)
    return tests
