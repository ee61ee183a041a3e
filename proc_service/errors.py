"""The error catalogue (docs/api.md §8): codes, HTTP statuses, English and Chinese texts.

handlers.py is the one place that turns any error into the envelope."""

from __future__ import annotations

from enum import Enum

# code -> (HTTP status, English, Chinese)
CATALOGUE: dict[int, tuple[int, str, str]] = {
    1199000: (400, "Deserializing JSON data failed", "反序列化JSON数据失败"),
    1199003: (400, "invalid input parameter: '%s'", "输入参数无效: '%s'"),
    1199006: (400, "'%s' data parameter verification does not pass", "'%s' 数据参数校验不通过"),
    1199007: (400, "'%s' must be a string type", "'%s' 必须为字符串类型"),
    1199008: (400, "'%s' cannot be omitted", "'%s' 不可以被省略"),
    1199009: (400, "'%s' parameters must be integral", "'%s' 参数必须是整型"),
    1199010: (400, "'%s' unassigned", "'%s' 未赋值"),
    1199011: (
        400,
        "'%s' the parameter is invalid or does not exist",
        "'%s' 参数无效或不存在",
    ),
    1199014: (409, "duplicated instances exist, %s duplicated", "数据唯一性校验失败， %s 重复"),
    1199015: (400, "'%s' data out of range", "'%s' 数据越界"),
    1199016: (400, "'%s' field regular check failed", "'%s' 字段正则校验失败"),
    1199019: (404, "No relevant data found: %s", "未找到相关数据: %s"),
    1199025: (400, "'%s' must be boolean", "'%s' 必须为布尔类型"),
    1199027: (401, "'%s' authorization information query failed", "[%s]授权信息查询失败"),
    1199035: (400, "%s exceed the limit %d", "%s 超过限制 %d"),
    # §14: the preset model is not the model API's to change; an option that strands values
    1199054: (400, "forbidden to change a preset attribute: %s", "禁止修改内置字段: %s"),
    1199056: (
        409,
        "'%s' change refused: %d instances hold values it would no longer allow",
        "'%s' 修改被拒绝: %d 个实例的值将不再合法",
    ),
    # §15, bk-cmdb's event codes: a ping or telnet that failed, a watch cursor past retention
    1103004: (400, "failed to ping the target: %s", "ping 目标地址失败: %s"),
    1103005: (400, "failed to telnet the target: %s", "telnet 目标地址失败: %s"),
    1103007: (
        410,
        "event chain node does not exist: the cursor has expired, watch from a time or from now",
        "事件节点不存在: 游标已过期, 请从某一时间或当前时间开始监听",
    ),
    1199999: (500, "Internal Server Error (request %s)", "服务器内部错误 (请求 %s)"),
    9900403: (403, "no permission", "没有权限"),
}


class Op(Enum):
    """What an endpoint does, as bk-cmdb numbers it when the database is unavailable: each
    endpoint declares one (web/endpoint.py), which also says whether it writes (§7b)."""

    DETAIL = (1108001, False, "query process detail", "查询进程详情")
    BIND = (1108002, True, "bind", "绑定进程到模块")
    UNBIND = (1108003, True, "unbind", "解绑进程模块")
    LIST_BINDINGS = (1108004, False, "list bindings", "获取进程绑定模块")
    UPDATE = (1108005, True, "update", "更新")
    SEARCH = (1108006, False, "search", "查询")
    DELETE = (1108007, True, "delete", "删除")
    CREATE = (1108008, True, "create", "创建")

    def __init__(self, code: int, writes: bool, en: str, zh: str):
        self.code = code
        self.writes = writes
        self.en, self.zh = en, zh


# Each operation's 503 joins the catalogue (§8: 1108001-1108008).
CATALOGUE.update(
    {op.code: (503, f"database unavailable while: {op.en}", f"数据库不可用: {op.zh}") for op in Op}
)


# Texts that are not error codes of their own: a code's message told more precisely.
TEXTS: dict[str, tuple[str, str]] = {
    "not ready": ("database unreachable or not migrated", "数据库不可达或未迁移到最新版本"),
    # GET / from an API client: where the pages and the API reference are.
    "root": (
        "No relevant data found: '/'; the web pages are at /ui/, the API reference at /docs",
        "未找到相关数据: '/'; 网页在 /ui/, API 参考在 /docs",
    ),
}


class ApiError(Exception):
    """An error a client will see: a catalogue code and the values for its message (or, with
    ``text``, one of TEXTS instead of the code's own message)."""

    def __init__(self, code: int, *args: object, status: int | None = None, text: str = ""):
        super().__init__(code, *args)
        self.code = code
        self.args_ = args
        self.status = status or CATALOGUE[code][0]
        self.text = text

    def message(self, lang: str) -> str:
        en, zh = TEXTS[self.text] if self.text else CATALOGUE[self.code][1:]
        template = en if lang == "en" else zh
        return template % self.args_ if "%" in template else template


def invalid(field: str) -> ApiError:
    return ApiError(1199003, field)


def not_found(what: str) -> ApiError:
    return ApiError(1199019, what)
