"""The attribute tables: processes (docs/api.md §2), sets and modules (§6), audit rows (§5). The one
source of truth.

Validation (schemas/), detail and search output, the search whitelist (data/query.py), the OpenAPI
schema and the models' columns (models.py) all read a ``Kind``: PROCESS, SET, MODULE or AUDIT.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

SINGLECHAR_MAX = 256
LONGCHAR_MAX = 2000
# Custom attributes (§14): bk-cmdb's type names, and the type each is checked and stored as
# here ("time" is a text "YYYY-MM-DD HH:MM:SS", not one of the service's own timestamps).
CUSTOM_TYPES = {
    "singlechar": "singlechar",
    "longchar": "longchar",
    "int": "int",
    "float": "float",
    "enum": "enum",
    "bool": "bool",
    "date": "date",
    "time": "datetime",
    "objuser": "objuser",
    "timezone": "timezone",
}
CUSTOM_LIMIT = 64  # custom attributes per kind and account


@dataclass(frozen=True)
class Option:
    code: str
    zh: str
    en: str


@dataclass(frozen=True)
class Attribute:
    id: str
    zh: str
    en: str
    # singlechar | longchar | int | enum | bool; system fields also "time"
    type: str
    required: bool = False
    # ints: inclusive range
    minimum: int | None = None
    maximum: int | None = None
    options: tuple[Option, ...] = ()
    # singlechar values checked against the port-list grammar
    port: bool = False
    # value filled on create when absent, and stored when a client sends null
    default: object = None
    # bk_biz_id comes from the path only
    writable: bool = True
    # bk_process_name and bk_func_id may not be batch-updated
    batch_writable: bool = True
    # a plain string in a search condition is a literal substring test, not equality
    contains: bool = False
    # may be a search condition key; may be a sort key
    searchable: bool = True
    sortable: bool = True
    # owned by the service and always set (ids, times): a null condition on it is malformed
    never_null: bool = False
    # an account's own attribute (§14): its value lives in the row's JSON column ``custom``
    custom: bool = False
    # custom: isonly (unique within the kind's unique_scope), a text pattern (already in the
    # portable dialect of data/regex.py) and the definition's id (its unique index's name)
    unique: bool = False
    pattern: str = ""
    definition_id: int = 0

    @property
    def max_length(self) -> int | None:
        limits = {"singlechar": SINGLECHAR_MAX, "longchar": LONGCHAR_MAX, "objuser": LONGCHAR_MAX}
        return limits.get(self.type)

    @property
    def empty(self) -> object:
        """What absent or null means for this attribute."""
        if self.default is not None:
            return self.default
        if self.custom:  # an empty custom value is no value: null, and absent from the row
            return None
        if self.type in ("singlechar", "longchar"):
            return ""
        if self.type == "bool":
            return False
        return None

    def name(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


def _str(id_, zh, en, type_="singlechar", **kw):
    return Attribute(id_, zh, en, type_, **kw)


def _int(id_, zh, en):
    return Attribute(id_, zh, en, "int", minimum=1, maximum=10000)


# docs/api.md §2, in detail order.
ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("bk_biz_id", "业务ID", "business id", "int", writable=False),
    _str(
        "bk_process_name",
        "进程名称",
        "process name",
        required=True,
        batch_writable=False,
        contains=True,
    ),
    _str("description", "进程描述", "description"),
    Attribute(
        "bind_ip",
        "绑定IP",
        "bind ip",
        "enum",
        options=(
            Option("1", "127.0.0.1", "127.0.0.1"),
            Option("2", "0.0.0.0", "0.0.0.0"),  # noqa: S104 - an option label, not a bind
            Option("3", "第一内网IP", "first intranet IP"),
            Option("4", "第一外网IP", "first extranet IP"),
        ),
    ),
    _str("port", "端口", "port", port=True),
    Attribute(
        "protocol",
        "协议",
        "protocol",
        "enum",
        options=(Option("1", "TCP", "TCP"), Option("2", "UDP", "UDP")),
        default="1",
    ),
    _str("bk_func_id", "功能ID", "function id", batch_writable=False),
    _str("bk_func_name", "功能名称", "function name", required=True),
    _str("work_path", "工作路径", "work path", "longchar"),
    _str("user", "启动用户", "process user"),
    _int("proc_num", "启动数量", "process number"),
    _int("priority", "启动优先级", "process priority"),
    _int("timeout", "操作超时时长", "process timeout"),
    _str("start_cmd", "启动命令", "start command", "longchar"),
    _str("stop_cmd", "停止命令", "stop command", "longchar"),
    _str("restart_cmd", "重启命令", "restart command", "longchar"),
    _str("face_stop_cmd", "强制停止命令", "force stop command", "longchar"),
    _str("reload_cmd", "进程重载命令", "reload command", "longchar"),
    _str("pid_file", "PID文件路径", "PID file path", "longchar"),
    Attribute("auto_start", "是否自动拉起", "autostart", "bool"),
    _int("auto_time_gap", "拉起间隔", "autostart period"),
    _str("bk_start_param_regex", "启动参数匹配规则", "startup parameter regex", "longchar"),
)


@dataclass(frozen=True)
class Kind:
    """One kind of object the API stores, and the rules around its attribute table."""

    name: str  # op_target in the audit log
    table: str
    attributes: tuple[Attribute, ...]  # what a client sees, in output order
    # owned by the service (its id first): output after the attributes, 1199011 in a body
    system: tuple[Attribute, ...]
    # body keys accepted and ignored: the path's values win, or bk-cmdb clients send them
    ignored: tuple[str, ...] = ()
    # (rule, attributes, only when all non-empty), unique within ``unique_scope``; the models
    # hold each as a unique index named uq_<table>_<rule>
    unique_rules: tuple[tuple[str, tuple[str, ...], bool], ...] = ()
    unique_scope: tuple[str, ...] = ("bk_supplier_account", "bk_biz_id")
    # search: rows when a request gives no limit (0: every match, up to values.BATCH_LIMIT, so
    # that bk-cmdb's "select all pages" gets all it batch-edits, §3), the order when it gives no
    # sort, and whether the id that breaks ties follows the first sort key's direction (else it
    # is ascending)
    default_limit: int = 0
    default_sort: str = ""
    tie_follows_sort: bool = False
    # objects live in the (account, business) of the path; audit rows only record theirs
    path_scoped: bool = True
    # the model version whose custom attributes this holds (0: the preset model), and what is
    # built from this model once (its body schemas): services/model.py
    version: int = 0
    cache: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    def with_custom(self, custom: tuple[Attribute, ...], version: int) -> Kind:
        """This kind extended by an account's custom attributes (§14), after the preset ones."""
        return replace(self, attributes=self.attributes + custom, version=version, cache={})

    @cached_property
    def custom(self) -> tuple[Attribute, ...]:
        return tuple(a for a in self.attributes if a.custom)

    @cached_property
    def preset(self) -> tuple[Attribute, ...]:
        return tuple(a for a in self.attributes if not a.custom)

    @property
    def id_field(self) -> str:
        return self.system[0].id

    @cached_property
    def by_id(self) -> dict[str, Attribute]:
        return {a.id: a for a in (*self.attributes, *self.system)}

    @cached_property
    def writable(self) -> tuple[Attribute, ...]:
        return tuple(a for a in self.attributes if a.writable)

    @cached_property
    def output_fields(self) -> tuple[str, ...]:
        return tuple(a.id for a in (*self.attributes, *self.system))

    @cached_property
    def path_fields(self) -> tuple[str, ...]:
        """Attributes that come from the path (the business, a module's set)."""
        return tuple(a.id for a in self.attributes if not a.writable)

    @cached_property
    def ignored_conditions(self) -> tuple[str, ...]:
        """Condition keys accepted and ignored: the path (and account) win (§3)."""
        return (*self.path_fields, "bk_supplier_account") if self.path_scoped else ()

    @cached_property
    def conditions(self) -> dict[str, Attribute]:
        """Condition keys a search takes, by name."""
        ignored = self.ignored_conditions
        return {k: a for k, a in self.by_id.items() if a.searchable and k not in ignored}

    @cached_property
    def sortable(self) -> tuple[str, ...]:
        return tuple(k for k, a in self.by_id.items() if a.sortable)

    @cached_property
    def sort_keys(self) -> tuple[str, ...]:
        """What page.sort takes: the sortable fields, and ``id`` for the kind's own id field
        (bk-cmdb v3.1.0's topology page sorts sets and modules by "id", §3)."""
        return tuple(dict.fromkeys((*self.sortable, "id")))

    def sort_field(self, name: str) -> str:
        """The field a sort key names: ``id`` is the kind's id field."""
        return self.id_field if name == "id" else name


def _system(id_: str, zh: str, en: str) -> tuple[Attribute, ...]:
    """The fields the service owns: never written through a body, never null."""
    return (
        Attribute(id_, zh, en, "int", writable=False, never_null=True),
        Attribute(
            "bk_supplier_account",
            "开发商账号",
            "supplier account",
            "singlechar",
            writable=False,
            never_null=True,
        ),
        Attribute(
            "create_time", "创建时间", "create time", "time", writable=False, never_null=True
        ),
        Attribute(
            "last_time", "更新时间", "last update time", "time", writable=False, never_null=True
        ),
    )


BIZ = ATTRIBUTES[0]

PROCESS = Kind(
    name="process",
    table="processes",
    attributes=ATTRIBUTES,
    system=_system("bk_process_id", "进程ID", "process id"),
    ignored=("bk_biz_id",),
    unique_rules=(
        ("name", ("bk_process_name",), False),
        ("func_id", ("bk_func_id",), True),
        ("func_regex", ("bk_func_name", "bk_start_param_regex"), True),
    ),
)

SET = Kind(
    name="set",
    table="sets",
    attributes=(
        BIZ,
        _str("bk_set_name", "集群名字", "set name", required=True),
        _str("bk_set_desc", "集群描述", "set description"),
        Attribute(
            "bk_set_env",
            "环境类型",
            "environment type",
            "enum",
            options=(
                Option("1", "测试", "test"),
                Option("2", "体验", "experience"),
                Option("3", "正式", "production"),
            ),
            default="3",
        ),
        Attribute(
            "bk_service_status",
            "服务状态",
            "service status",
            "enum",
            options=(Option("1", "开放", "open"), Option("2", "关闭", "closed")),
            default="1",
        ),
        Attribute("bk_capacity", "设计容量", "capacity", "int", minimum=1, maximum=999999999),
        _str("description", "备注", "description"),
        # 0 normal, 1 built-in (the idle pool)
        Attribute("default", "内置类型", "built-in type", "int", minimum=0, maximum=1, default=0),
    ),
    system=_system("bk_set_id", "集群ID", "set id"),
    ignored=("bk_biz_id", "bk_parent_id", "bk_supplier_account"),
    unique_rules=(("name", ("bk_set_name",), False),),
)

MODULE = Kind(
    name="module",
    table="modules",
    attributes=(
        BIZ,
        Attribute("bk_set_id", "集群ID", "set id", "int", writable=False),
        _str("bk_module_name", "模块名", "module name", required=True),
        Attribute(
            "bk_module_type",
            "模块类型",
            "module type",
            "enum",
            options=(Option("1", "普通", "common"), Option("2", "数据库", "database")),
            default="1",
        ),
        _str("operator", "主要维护人", "operator"),
        _str("bk_bak_operator", "备份维护人", "backup operator"),
        # 0 normal, 1 idle, 2 fault: only normal modules take process bindings (§3)
        Attribute("default", "内置类型", "built-in type", "int", minimum=0, maximum=2, default=0),
    ),
    system=_system("bk_module_id", "模块ID", "module id"),
    ignored=("bk_biz_id", "bk_set_id", "bk_parent_id", "bk_supplier_account"),
    # module names are unique within their set; the same name may be in several sets
    unique_rules=(("name", ("bk_module_name",), False),),
    unique_scope=("bk_set_id",),
)

KINDS: tuple[Kind, ...] = (PROCESS, SET, MODULE)


def _audit_field(id_: str, type_: str, searchable: bool = False, **kw) -> Attribute:
    return Attribute(id_, id_, id_, type_, writable=False, searchable=searchable, **kw)


# docs/api.md §5: one row per changed object. Only the service writes them; searches take
# bk_biz_id, op_type, op_target, inst_id and operator as conditions (op_time as a range).
AUDIT = Kind(
    name="audit",
    table="audit_log",
    attributes=(
        _audit_field("bk_supplier_account", "singlechar"),
        _audit_field("bk_biz_id", "int", searchable=True),
        _audit_field("op_type", "int", searchable=True),  # 1 create, 2 update, 3 delete
        _audit_field("op_target", "singlechar", searchable=True),  # process, set, module
        _audit_field("inst_id", "int", searchable=True),
        _audit_field("op_desc", "longchar"),  # "unbind module [<a 256-character name>]"
        _audit_field("operator", "singlechar", searchable=True),
        _audit_field("op_from", "singlechar"),
        _audit_field("op_time", "time"),
        _audit_field("request_id", "singlechar"),
        _audit_field("content", "json", sortable=False),  # {pre_data, cur_data}
    ),
    system=(_audit_field("id", "int", never_null=True),),
    default_limit=20,
    default_sort="-op_time",  # newest first
    tie_follows_sort=True,
    path_scoped=False,
)


# Ids no custom attribute may take, of any kind (§14): every kind's attributes, system fields
# and accepted body keys, and a few words with a meaning of their own; and the prefix bk_.
RESERVED: frozenset[str] = frozenset(
    {name for kind in KINDS for name in (*kind.by_id, *kind.ignored)}
    | {"bk_supplier_account", "bk_parent_id", "bk_module_name", "id", "default"}
)


def reserved(property_id: str) -> bool:
    return property_id in RESERVED or property_id.lower().startswith("bk_")
