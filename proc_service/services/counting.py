"""Counts a process search reads instead of counting matching rows (issue 7).

A search's ``count`` is exact (docs/api.md §3). Counting a whole business row by row costs time in
proportion to the business (85 ms at 900,000 processes), so two shapes read a count that is
already there:

- no condition: the business's row of ``process_counts``, which triggers on ``processes`` keep
  (migration 0003) in the transaction of every insert and delete, so it is as exact, and as
  isolated, as the rows themselves;
- only ``bk_module_name``: for one name, its row of ``binding_counts`` (kept by triggers on
  ``process_bindings`` in the same way); for several, the bindings, which carry their
  process's business, counted from one range of ``ix_process_bindings_scope``;
- only equality or $in on one custom attribute (§14, issue 15): the values' rows of
  ``custom_counts`` (kept by triggers on ``processes``, migration 0005), when every value is
  one the triggers count (not a float, text of at most 200 characters).

Every other search counts its matches as before.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import BigInteger, Select, bindparam, cast, func, select

from ..attributes import PROCESS, Attribute, Kind
from ..data import prepared, query
from ..data.models import COUNTED_TEXT, BindingCount, CustomCount, ProcessBinding, ProcessCount
from ..scope import Scope

IGNORED = PROCESS.ignored_conditions  # conditions the path overrides (§3)
_ACCOUNT, _BIZ, _NAME = bindparam("account"), bindparam("biz"), bindparam("name")
# Tables' columns, as in query.build (issue 18: no ORM layer in a search's statements).
_PROCESSES, _BINDINGS = ProcessCount.__table__.c, BindingCount.__table__.c
_CUSTOM, _BOUND = CustomCount.__table__.c, ProcessBinding.__table__.c
# The kept counts' statements, built once, executed with each search's values on the driver's
# connection (data/prepared.py).
_BUSINESS = prepared.kept(
    select(
        func.coalesce(
            select(_PROCESSES.processes)
            .where(_PROCESSES.bk_supplier_account == _ACCOUNT, _PROCESSES.bk_biz_id == _BIZ)
            .scalar_subquery(),
            0,
        )
    )
)
_ONE_NAME = prepared.kept(
    select(
        func.coalesce(
            select(_BINDINGS.processes)
            .where(
                _BINDINGS.bk_supplier_account == _ACCOUNT,
                _BINDINGS.bk_biz_id == _BIZ,
                _BINDINGS.bk_module_name == _NAME,
            )
            .scalar_subquery(),
            0,
        )
    )
)


def process_count(
    kind: Kind, scope: Scope, condition: dict, module_names: Callable[[object], list[str]]
) -> tuple[Select, dict] | None:
    """A cheaper COUNT for this search of ``scope`` and its parameters, or None to count the
    matches. It runs
    before query.build; ``module_names`` reads a ``bk_module_name`` condition (query.names,
    once per search), so a malformed one fails with the error the build would give."""
    keys = [key for key in condition if key not in IGNORED]
    if not keys:
        return _BUSINESS, {"account": scope.account, "biz": scope.biz_id}
    if keys == ["bk_module_name"]:
        names = module_names(condition["bk_module_name"])
        if len(set(names)) == 1:  # kept per name, like the business's count
            return _ONE_NAME, {"account": scope.account, "biz": scope.biz_id, "name": names[0]}
        # Several names: a process bound to two of them counts once.
        stmt = select(func.count(_BOUND.bk_process_id.distinct())).where(
            _BOUND.bk_supplier_account == scope.account,
            _BOUND.bk_biz_id == scope.biz_id,
            _BOUND.bk_module_name.in_(names),
        )
        return stmt, {}
    if len(keys) == 1 and keys[0] in kind.by_id and kind.by_id[keys[0]].custom:
        attr = kind.by_id[keys[0]]
        texts = _counted(attr, condition[attr.id])
        if texts is not None:
            # sum(bigint) is numeric on PostgreSQL: the count stays an integer
            total = func.sum(_CUSTOM.processes, type_=BigInteger)
            stmt = select(cast(func.coalesce(total, 0), BigInteger)).where(
                _CUSTOM.bk_supplier_account == scope.account,
                _CUSTOM.bk_biz_id == scope.biz_id,
                _CUSTOM.bk_property_id == attr.id,
                _CUSTOM.value.in_(texts),
            )
            return stmt, {}
    return None


def business(scope: Scope) -> tuple[Select, dict]:
    """How many processes the business of ``scope`` holds, as kept: a statement built once,
    and its values."""
    return _BUSINESS, {"account": scope.account, "biz": scope.biz_id}


def _counted(attr: Attribute, value: object) -> list[str] | None:
    """The texts custom_counts keeps for the values the condition asks equality with, or None
    when the condition is another shape or a value is one the triggers do not count."""
    if attr.type == "float":  # 1.5 and 1.50 are one value: no text of them is canonical
        return None
    values = query.equal_values(attr, value)
    if values is None:
        return None
    texts = set()
    for v in values:
        if isinstance(v, bool):
            texts.add("true" if v else "false")
        elif isinstance(v, int) or (isinstance(v, str) and len(v) <= COUNTED_TEXT):
            texts.add(str(v))
        else:
            return None
    return sorted(texts)
