"""search_process (docs/api.md §3): the readers its tests share."""

from __future__ import annotations

from proc_service.attributes import ATTRIBUTES

from ..kit import create, ok, search

ATTRIBUTE_IDS = [a.id for a in ATTRIBUTES]
SYSTEM = ["bk_process_id", "bk_supplier_account", "create_time", "last_time"]


def found(client, body, **kw) -> dict:
    """The search's data; checks that info never holds more rows than count says."""
    data = ok(search(client, body, **kw))
    assert len(data["info"]) <= data["count"]
    return data


def matching(client, condition, **kw) -> set[str]:
    """Names of the processes matching ``condition`` (all on one page, so count == len(info))."""
    data = found(client, {"condition": condition}, **kw)
    names = [p["bk_process_name"] for p in data["info"]]
    assert data["count"] == len(names) == len(set(names)), data
    return set(names)


def ordered(client, sort: str, key="bk_process_name", **page) -> list:
    info = found(client, {"page": {"sort": sort, **page}})["info"]
    return [p[key] for p in info]


def bulk(client, count: int, prefix="p", **attrs) -> list[int]:
    return [create(client, bk_process_name=f"{prefix}{i:04}", **attrs) for i in range(count)]


def check_table(client, cases, **kw) -> None:
    """Every (condition, expected names) row of a table; reports the failing row."""
    for condition, expected in cases:
        assert matching(client, condition, **kw) == expected, condition
