"""Audit rows (contract §5), added to the session of the change they record."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from ..models import AuditLog
from . import Actor, Scope

CREATE, UPDATE, DELETE = 1, 2, 3


def record(
    sess: Session,
    scope: Scope,
    actor: Actor,
    *,
    op_type: int,
    target: str,
    inst_id: int,
    desc: str,
    pre: dict,
    cur: dict,
) -> None:
    sess.add(
        AuditLog(
            bk_supplier_account=scope.account,
            bk_biz_id=scope.biz_id,
            op_type=op_type,
            op_target=target,
            inst_id=inst_id,
            op_desc=desc,
            operator=actor.operator,
            op_from=actor.op_from,
            op_time=datetime.now(UTC),
            request_id=actor.request_id,
            content={"pre_data": pre, "cur_data": cur},
        )
    )
