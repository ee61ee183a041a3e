"""Readiness (docs/api.md §7): the database answers and carries the newest migration."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ..data import db


def ready(sess: Session, heads: set[str]) -> bool:
    try:
        with db.read(sess):
            current = set(sess.scalars(text("SELECT version_num FROM alembic_version")))
    except SQLAlchemyError:  # unreachable, or not migrated at all: not ready either way
        return False
    return current == heads
