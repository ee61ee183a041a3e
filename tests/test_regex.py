"""$regex answers alike on SQLite (RE2) and PostgreSQL (~): the same data, the same pattern,
the same status and the same matches on both, or a refusal on both."""

from __future__ import annotations

import random

import pytest

from proc_service import create_app
from proc_service.data.regex import Refused, portable, required_literal, sqlite_regexp

from .kit import proc_url, search_url

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

ACCEPTED = [
    "", "a", "^a", "b$", "^$", "a.b", ".", "^.$", "\\d", "\\d+$", "\\D", "\\s", "\\S+",
    "\\w+", "^\\w+$", "\\W", "[0-9]", "[^a-z]", "[a-z]+_[a-z]+", "[\\d]", "[\\s\\d]",
    "[\\w.-]+", "é", "[é-ü]", "进程", "[进启]", "\\[x\\]", "\\{y\\}", "\\(z\\)", "\\\\",
    "C:\\\\path", "x\\ty", "a\\nb", "(ab)+", "(?:ab){3,}", "(ab|cd)", "a|^$", "a*?b", "a+?",
    "a??", "[a-c]{2}", "A", "^[A-Z]+$", "ｚ", "٣", "a{0}", "(a)", "a\u00a0b", "a]", "[a-c-]",
    "[-a]", "[a\\-c]", "(?:ab?){16}c", "a{255}", "((a)b)", "^a$|^b$|^c$|^d$",
    "(?:^|,)x(?:,|$)", "^(a|b)$", "\\d{1,100}", "(a|b|c){16}", "^[a-z0-9._-]{1,63}$",
]  # fmt: skip
REFUSED = [
    "\\b", "\\B", "\\A", "\\z", "\\1", "(a)\\1", "\\x41", "\\x{41}", "\\pL", "\\Q.\\E",
    "(?i)a", "(?=a)", "(?!a)", "(?<=a)", "(?P<n>a)", "[[:alpha:]]", "[[:^alpha:]]", "[[.a.]]",
    "[[=a=]]", "^*", "*a", "a**", "a{2}{3}", "(", ")", "[a", "}", "[\\d-z]", "[a-\\d]", "[\\D]",
    "\\", "[z-a]", "(*)", "|*", "a\\", "***:a", "(?:", "[]]", "[^]]", "x{", "a{,3}", "a{256}",
    "a{3,2}", "(?:ab){1000}", "[a-b-c]", "[a-c-e]", "(?:a*a*a*a*){255}b", "(?:a*a*){17}c",
    "((?:a?){4}){4}b", "(.?){255}(.?){255}z", "[^(---{]", "[ ----进]", "[+--]",
    "(a*a*a*){0,16}(a*a*){0,16}(a*a*a*){0,16}b", "((?:a*b*){16})+c", "(?:^|$){16}",
    "(^|$)" * 18, "(?:(?:^)?(?:$)?){16}", "(?:" + "a*" * 30 + "){16}",
    "((?:\\S*[^a]*[^a]*){16})+",
]  # fmt: skip


def _generated(count: int, seed: int = 20261127) -> list[str]:
    """Random patterns from the dialect's pieces (and some outside it), the same every run."""
    rnd = random.Random(seed)
    pieces = ["a", "b", "进", "é", ".", "-", "\\d", "\\s", "\\w", "\\D", "\\.", "\\-", "\\n", "]"]
    items = ["a", "b", "-", "a-c", "\\d", "é", "进", "x-z", "\\]", "^", "\\s", "0-9"]
    quantifiers = ["", "", "", "*", "+", "?", "*?", "{2}", "{1,3}", "{0,}", "{20}"]

    def atom(depth: int) -> str:
        roll = rnd.random()
        if roll < 0.2:
            body = "".join(rnd.choice(items) for _ in range(rnd.randint(1, 3)))
            return "[" + rnd.choice(["", "^"]) + body + "]"
        if roll < 0.3 and depth < 2:
            return rnd.choice(["(", "(?:"]) + sequence(depth + 1) + ")"
        return rnd.choice(pieces)

    def sequence(depth: int) -> str:
        parts = [atom(depth) + rnd.choice(quantifiers) for _ in range(rnd.randint(1, 4))]
        if rnd.random() < 0.15:
            parts.append("|" + atom(depth))
        return "".join(parts)

    return [rnd.choice(["", "^"]) + sequence(0) + rnd.choice(["", "$"]) for _ in range(count)]


PATTERNS = ACCEPTED + REFUSED + _generated(300)


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
    # ...and the dialect is what README.md says it is.
    assert [p for p in ACCEPTED if on_sqlite[p][0] != 200] == []
    assert [p for p in REFUSED if on_sqlite[p][:2] != (400, 1199006)] == []
    generated = PATTERNS[len(ACCEPTED) + len(REFUSED) :]
    accepted = sum(on_sqlite[p][0] == 200 for p in generated)
    assert 0.3 < accepted / len(generated) < 0.95  # the corpus exercises both answers


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


# --- the text every match holds (issue 18: SQLite's trigram index narrows a $regex) ----------


@pytest.mark.parametrize(
    ("pattern", "literal"),
    [
        ("4242[0-9]-", "4242"),
        ("proc-.*-4242", "proc-"),  # the longest run, the first of equals
        ("ab*cde", "cde"),  # b may be absent
        ("abc?de", "ab"),
        ("abcd{2,3}ef", "abc"),  # d may repeat: "abcdd"
        ("abc{2}", "ab"),
        ("abc+d", "abc"),  # "abccd": c is there, the run stops after it
        ("a+bcd", "bcd"),
        ("a(bcd)efg", "efg"),  # nothing inside a group counts
        ("x(?:abcd)*yz", "yz"),
        ("[abcd]ef", "ef"),  # nor inside a class
        ("[]abc]xyz", "xyz"),
        ("[^\\]]qq", "qq"),
        ("ab\\.cde", "cde"),  # an escape ends a run
        ("\\dabc", "abc"),
        ("^abc", "abc"),
        ("abc$", "abc"),
        ("进程启动", "进程启动"),
        ("😀😀😀x*", "😀😀😀"),
        ("abc|def", None),  # an alternation anywhere: nothing is certain
        ("(ab|cd)efgh", None),
        ("(?i)abcd", None),  # a flag group (refused by the dialect anyway)
        ("", None),
        (".*", None),
        ("[a-z]+", None),
    ],
)
def test_required_literal(pattern, literal):
    assert required_literal(pattern) == literal


def test_every_match_holds_the_required_literal():
    """Over the dialect's corpus: whatever a pattern matches holds its required literal."""
    rnd = random.Random(18)
    alphabet = "ab-进é.]x0\n"
    texts = [*VALUES.values()] + [
        "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 12))) for _ in range(400)
    ]
    checked = 0
    for pattern in PATTERNS:
        try:
            translated = portable(pattern)
        except Refused:
            continue
        literal = required_literal(pattern)
        if literal is None:
            continue
        for text in [*texts, f"x{literal}y"]:
            if sqlite_regexp(translated, text):
                checked += 1
                assert literal in text, (pattern, literal, text)
    assert checked > 100
