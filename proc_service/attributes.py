"""The process attribute table (contract §2): the one source of truth.

Validation (schemas.py), detail output and search whitelisting (services/process.py, query.py),
the OpenAPI schema and the model's columns (models.py) all read ``ATTRIBUTES``.
"""

from __future__ import annotations

from dataclasses import dataclass

SINGLECHAR_MAX = 256
LONGCHAR_MAX = 2000


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
    # singlechar | longchar | int | enum | bool
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

    @property
    def max_length(self) -> int | None:
        return {"singlechar": SINGLECHAR_MAX, "longchar": LONGCHAR_MAX}.get(self.type)

    @property
    def empty(self) -> object:
        """What absent or null means for this attribute."""
        if self.default is not None:
            return self.default
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


ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("bk_biz_id", "业务ID", "business id", "int", writable=False),
    _str("bk_process_name", "进程名称", "process name", required=True, batch_writable=False),
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

BY_ID: dict[str, Attribute] = {a.id: a for a in ATTRIBUTES}

# Attributes a client may write through a body (create, update, batch update).
WRITABLE: tuple[Attribute, ...] = tuple(a for a in ATTRIBUTES if a.writable)

# Fields the service owns; sending one in a body is an error (1199011).
SYSTEM_FIELDS: tuple[str, ...] = (
    "bk_process_id",
    "bk_supplier_account",
    "create_time",
    "last_time",
)

# Everything a process shows in search output, in output order.
OUTPUT_FIELDS: tuple[str, ...] = tuple(a.id for a in ATTRIBUTES) + SYSTEM_FIELDS

# Uniqueness per (supplier account, business), held by unique indexes in models.py. A rule with
# ``when_not_empty`` only applies when every one of its attributes is non-empty.
UNIQUE_RULES: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("name", ("bk_process_name",), False),
    ("func_id", ("bk_func_id",), True),
    ("func_regex", ("bk_func_name", "bk_start_param_regex"), True),
)
