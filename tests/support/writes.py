"""Process writes (docs/api.md §3): the attribute names and the direct binding readers their tests
share.
"""

from __future__ import annotations

# docs/api.md §2: the 22 attributes in order, with their Chinese and English names.
ATTRIBUTE_NAMES = [
    ("bk_biz_id", "业务ID", "business id"),
    ("bk_process_name", "进程名称", "process name"),
    ("description", "进程描述", "description"),
    ("bind_ip", "绑定IP", "bind ip"),
    ("port", "端口", "port"),
    ("protocol", "协议", "protocol"),
    ("bk_func_id", "功能ID", "function id"),
    ("bk_func_name", "功能名称", "function name"),
    ("work_path", "工作路径", "work path"),
    ("user", "启动用户", "process user"),
    ("proc_num", "启动数量", "process number"),
    ("priority", "启动优先级", "process priority"),
    ("timeout", "操作超时时长", "process timeout"),
    ("start_cmd", "启动命令", "start command"),
    ("stop_cmd", "停止命令", "stop command"),
    ("restart_cmd", "重启命令", "restart command"),
    ("face_stop_cmd", "强制停止命令", "force stop command"),
    ("reload_cmd", "进程重载命令", "reload command"),
    ("pid_file", "PID文件路径", "PID file path"),
    ("auto_start", "是否自动拉起", "autostart"),
    ("auto_time_gap", "拉起间隔", "autostart period"),
    ("bk_start_param_regex", "启动参数匹配规则", "startup parameter regex"),
]
ATTRIBUTE_IDS = [row[0] for row in ATTRIBUTE_NAMES]
