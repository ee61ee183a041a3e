"""$regex answers alike on SQLite (RE2) and PostgreSQL (~): the same data, the same pattern,
the same status and the same matches on both, or a refusal on both."""

from __future__ import annotations

import pytest

from proc_service import create_app

from .helpers import proc_url, search_url

VALUES = {
    "plain": "nginx -c /etc/nginx.conf",
    "newline": "a\nb",
    "cjk": "进程 启动",
    "accent": "café ß",
    "digits": "port 8080",
    "arabic-digit": "٣",
    "fullwidth": "ｚ５",
    "tab": "x\ty",
    "nbsp": "a\u00a0b",
    "under": "snake_case",
    "brackets": "[x] {y} (z)",
    "backslash": "C:\\path\\to",
    "upper": "ABC",
    "empty": "",
    "long": "ab" * 1000,
}

PATTERNS = [
    # portable: must match the same rows on both databases
    "", "a", "^a", "b$", "^$", "a.b", ".", "^.$", "\\d", "\\d+$", "\\D", "\\s", "\\S+",
    "\\w+", "^\\w+$", "\\W", "[0-9]", "[^a-z]", "[a-z]+_[a-z]+", "[\\d]", "[\\s\\d]",
    "[\\w.-]+", "é", "[é-ü]", "进程", "[进启]", "\\[x\\]", "\\{y\\}", "\\(z\\)", "\\\\",
    "C:\\\\path", "x\\ty", "a\\nb", "(ab)+", "(?:ab){1000}", "(?:ab){3,}", "(ab|cd)", "a|^$",
    "a*?b", "a+?", "a??", "[a-c]{2}", "A", "^[A-Z]+$", "ｚ", "٣", "a{0}", "(a)", "a\u00a0b",
    "[]]", "[^]]", "x{", "a{,3}", "a{256}", "a{3,2}",
    # not portable or malformed: must be refused on both
    "\\b", "\\B", "\\A", "\\z", "\\1", "(a)\\1", "\\x41", "\\x{41}", "\\pL", "\\Q.\\E", "(?i)a",
    "(?=a)", "(?!a)", "(?<=a)", "(?P<n>a)", "[[:alpha:]]", "[[:^alpha:]]", "[[.a.]]",
    "[[=a=]]", "^*", "*a", "a**", "a{2}{3}", "(", ")", "[a", "a]", "}", "[\\d-z]", "[a-\\d]",
    "[\\D]", "\\", "[z-a]", "(*)", "|*", "a\\", "***:a", "(?:",
]  # fmt: skip


def _answers(url: str) -> dict[str, tuple]:
    app = create_app({"DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
    client = app.test_client()
    for name, value in VALUES.items():
        body = {"bk_process_name": name, "bk_func_name": "f", "start_cmd": value}
        assert client.post(proc_url(), json=body).status_code == 200
    answers = {}
    for pattern in PATTERNS:
        body = {"condition": {"start_cmd": {"$regex": pattern}}, "fields": ["bk_process_name"]}
        resp = client.post(search_url(), json=body)
        payload = resp.get_json()
        assert resp.status_code in (200, 400), (pattern, payload)
        names = (
            sorted(p["bk_process_name"] for p in payload["data"]["info"]) if payload["data"] else []
        )
        answers[pattern] = (resp.status_code, payload["bk_error_code"], names)
    app.extensions["db_engine"].dispose()
    return answers


def test_every_pattern_answers_alike_on_both_databases(fresh_db):
    on_sqlite = _answers(fresh_db("sqlite"))
    on_postgres = _answers(fresh_db("postgresql"))
    differ = {p: (on_sqlite[p], on_postgres[p]) for p in PATTERNS if on_sqlite[p] != on_postgres[p]}
    assert differ == {}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("a.b", {"newline", "nbsp"}),  # "." matches a newline
        ("^\\w+$", {"upper", "under", "long"}),  # \w is ASCII: not "进程", not "é"
        ("\\d", {"digits"}),  # ASCII digits only: not Arabic-Indic or full-width ones
        # ASCII white space: not the no-break space
        ("\\s", {"plain", "cjk", "accent", "digits", "tab", "brackets", "newline"}),
    ],
)
def test_class_shorthands_are_ascii(fresh_db, pattern, expected):
    """The dialect's promise, checked on SQLite (and on PostgreSQL by the test above)."""
    client = create_app({"DATABASE_URL": fresh_db("sqlite"), "LOG_LEVEL": "WARNING"}).test_client()
    for name, value in VALUES.items():
        client.post(
            proc_url(), json={"bk_process_name": name, "bk_func_name": "f", "start_cmd": value}
        )
    body = {"condition": {"start_cmd": {"$regex": pattern}}, "fields": ["bk_process_name"]}
    info = client.post(search_url(), json=body).get_json()["data"]["info"]
    assert {p["bk_process_name"] for p in info} == expected
