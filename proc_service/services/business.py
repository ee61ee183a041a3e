"""The businesses of a supplier account that hold data (processes or sets). Businesses are
implicit (docs/api.md §1): any positive id is one, so "has data" is what can be listed."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..data.models import Process, Set
from ..data.query import page_window
from ..values import PAGE_LIMIT


def _business_ids(sess: Session, model, account: str) -> list[int]:
    """Distinct bk_biz_id of one table by a skip scan of its (account, business, id) index:
    one index probe per business, not a read of every row (a business may hold 900,000)."""
    column = model.bk_biz_id
    scope = model.bk_supplier_account == account
    first = select(func.min(column).label("id")).where(scope).cte("biz", recursive=True)
    following = select(
        select(func.min(column)).where(scope, column > first.c.id).scalar_subquery()
    ).where(first.c.id.is_not(None))
    found = first.union_all(following)
    return list(sess.scalars(select(found.c.id).where(found.c.id.is_not(None))))


def search(sess: Session, account: str, page: dict) -> dict:
    """One page of the account's businesses; the page checked as every search's is."""
    start, limit = page_window(page["start"], page["limit"], PAGE_LIMIT, "page.")
    ids = sorted(
        {*_business_ids(sess, Process, account), *_business_ids(sess, Set, account)},
        reverse=page["sort"] == "-bk_biz_id",
    )
    page = ids[start : start + limit]
    return {
        "count": len(ids),
        "info": [{"bk_biz_id": biz, "bk_supplier_account": account} for biz in page],
    }
