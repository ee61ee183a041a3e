"""Attribute metadata (docs/api.md §11): bk-cmdb's search_object_attribute, generated from the
attribute tables of attributes.py, the same tables validation reads, so the two cannot disagree."""

from __future__ import annotations

from ..attributes import KINDS, Attribute, Kind
from ..values import INT64_MAX, PORT_LIST

# bk-cmdb's property groups (§11): processes put the listening port in a group of its own.
GROUPS = {
    "default": ("基础信息", "basic info"),
    "proc_port": ("监听端口", "listening port"),
    "none": ("更多属性", "more attributes"),
}
PROCESS_PORT_GROUP = ("bind_ip", "port", "protocol")
# A range's "a <= b" is beyond a regular expression: a client checks it apart (the server
# always does).
PORT_PATTERN = f"^{PORT_LIST}$"
PORT_PLACEHOLDER = {
    "zh": "单个端口：8080；连续端口：8080-8089；"
    "多个端口用逗号分隔：8080-8089,8199（1-65535，无空格）",
    "en": "one port: 8080; a range: 8080-8089; several, comma-separated: 8080-8089,8199 "
    "(1-65535, no spaces)",
}
KIND_NAMES = tuple(kind.name for kind in KINDS)
# Object ids are system fields in bk-cmdb, not model attributes (§13), wherever they appear (a
# module's bk_set_id too); so are bk_supplier_account and the two times, which the attribute
# tables already keep apart.
SYSTEM_IDS = frozenset(kind.system[0].id for kind in KINDS)


def _group(kind: Kind, attr: Attribute) -> str:
    if kind.name != "process":
        return "default"  # bk-cmdb keeps every set and module attribute in its basic group
    if attr.id in PROCESS_PORT_GROUP:
        return "proc_port"
    if attr.id.endswith(("_id", "_name")) or attr.id == "description":
        return "default"
    return "none"


def _option(kind: Kind, attr: Attribute, lang: str) -> object:
    if attr.type == "enum":
        return [
            {
                "id": o.code,
                "name": o.en if lang == "en" else o.zh,
                "type": "text",
                "is_default": o.code == attr.default,
            }
            for o in attr.options
        ]
    if attr.type == "int":
        # an int with no range of its own is an id: positive, 64-bit
        low = 1 if attr.minimum is None else attr.minimum
        high = INT64_MAX if attr.maximum is None else attr.maximum
        return {"min": str(low), "max": str(high)}
    if attr.port:
        return PORT_PATTERN
    return ""


def _unique_ids(kind: Kind) -> set[str]:
    return {attr for _, attrs, _ in kind.unique_rules for attr in attrs}


def _row(kind: Kind, number: int, index: int, attr: Attribute, lang: str, account: str) -> dict:
    group = _group(kind, attr)
    zh_group, en_group = GROUPS[group]
    return {
        "id": number,
        "bk_obj_id": kind.name,
        "bk_property_id": attr.id,
        "bk_property_name": attr.name(lang),
        "bk_property_type": attr.type,
        "bk_property_index": index,
        "bk_property_group": group,
        "bk_property_group_name": en_group if lang == "en" else zh_group,
        "isrequired": attr.required,
        "isonly": attr.id in _unique_ids(kind),
        "isreadonly": not attr.writable,
        "editable": attr.writable,
        "ispre": True,
        "isapi": not attr.writable,  # bk_biz_id, as bk-cmdb marks it
        "option": _option(kind, attr, lang),
        "placeholder": PORT_PLACEHOLDER[lang] if attr.port else "",
        "unit": "",
        "description": "",
        "creator": "cc_system",
        "bk_supplier_account": account,
    }


def attributes(
    kind_name: str | None, lang: str, account: str, custom: dict[str, list[dict]] | None = None
) -> list[dict]:
    """The model attributes of one kind (or of all three), in table order; ``id`` is stable:
    1000 per kind plus the position. ``custom``: the account's own definitions per kind
    (services/model.py), listed after the preset ones in creation order (§14)."""
    rows = []
    for number, kind in enumerate(KINDS, 1):
        if kind_name not in (None, kind.name):
            continue
        listed = [attr for attr in kind.attributes if attr.id not in SYSTEM_IDS]
        for index, attr in enumerate(listed):
            rows.append(_row(kind, number * 1000 + index + 1, index, attr, lang, account))
        for index, found in enumerate((custom or {}).get(kind.name, ()), len(listed)):
            group = found["bk_property_group"]
            names = GROUPS.get(group, (group, group))
            rows.append(
                {
                    **found,
                    "bk_property_index": index,
                    "bk_property_group_name": names[1] if lang == "en" else names[0],
                }
            )
    return rows


# §11's ids of the preset attributes: the model API refuses to change them (§14).
PRESET_IDS = frozenset(row["id"] for row in attributes(None, "en", "0"))
