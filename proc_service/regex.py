r"""$regex: one pattern dialect that means the same to RE2 (SQLite) and to PostgreSQL's `~`.

A client's pattern is read token by token and written out again in a form both engines read
alike; whatever the two would read differently is refused (400 / 1199006) rather than answered
differently on each database:
- `\d \s \w` (and `\D \S \W`) become explicit ASCII sets: PostgreSQL's follow the locale, RE2's
  do not. Inside brackets only the lower-case ones, and not as a range end;
- escapes are kept for punctuation and `\t \n \v \f \r`; `\b`, `\1`, `\x41`, `\pN`, ... are refused,
  as are POSIX classes (`[[:alpha:]]`), flags, and groups other than `(` and `(?:`;
- `{` must start a repetition `{n}`, `{n,}` or `{n,m}` with counts up to 255 (PostgreSQL's
  limit), and every repetition must follow something to repeat; a literal brace is `\{`.
- a counted group repeats at most 16 times, its quantifiers and branches times its count stay
  within 64, all counted groups together repeat at most 32 times, a repeated group holds no
  counted repetition and no ^ or $, and a pattern has at most 16 anchors (PostgreSQL compiles
  a counted group by copying it and anchors by doubling states: "(?:a*a*a*){255}b" and
  "(?:^|$){16}" cost it seconds).
RE2 then compiles the result and caps its program size. RE2 runs in time linear in the text;
PostgreSQL's engine does not, and some patterns are slow on both ("[ab]*a[ab]{64}c" defeats
RE2's DFA), so a $regex search also runs under a time limit on both databases (db.time_limit).
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass

import re2

MAX_REPEAT = 255  # PostgreSQL's limit for {n,m}
MAX_GROUP_REPEAT = 16  # for a counted group, which must not hold a counted repetition itself
MAX_GROUP_COPIES = 32  # counted groups' counts added up over the whole pattern
MAX_GROUP_WEIGHT = 64  # a counted group's quantifiers and branches, times its count
MAX_ANCHORS = 16  # ^ and $ in one pattern
# RE2 program size: "^nginx.*worker[0-9]+$" is about 20; the cap leaves room for any
# reasonable pattern and refuses ones built to be slow, like "(.?){255}(.?){255}z" (4085).
MAX_PROGRAM = 500

_SETS = {"d": "0-9", "s": "\\t\\n\\v\\f\\r ", "w": "0-9A-Za-z_"}
_CONTROLS = set("tnvfr")
_QUANTIFIERS = set("*+?")
_REPEAT = re.compile(r"\{([0-9]{1,3})(?:(,)([0-9]{0,3}))?\}")

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False
_OPTIONS.dot_nl = True  # PostgreSQL's "." matches a newline too
_OPTIONS.never_capture = True  # a yes/no answer lets RE2 stay on its fast DFA


class Refused(ValueError):
    """The pattern is outside the portable dialect, or too costly."""


def _escape(char: str) -> tuple[str, str]:
    """(kind, text) for the escape "\\" + char: kind "char" is one character, "set" a class."""
    if char in _CONTROLS or (char.isascii() and not char.isalnum()):
        return "char", "\\" + char  # a control character, or punctuation as a literal
    if char.lower() in _SETS:
        return "set", char
    raise Refused(f"escape \\{char}")


def _bracket(pattern: str, i: int) -> tuple[str, int]:
    """The bracket expression starting at pattern[i] == "[", and the index after it."""
    head = "["
    i += 1
    if pattern.startswith("^", i):
        head, i = "[^", i + 1
    if pattern.startswith("]", i):
        raise Refused("a ] first in a class; write \\]")
    items: list[tuple[str, str]] = []
    while i < len(pattern):
        char = pattern[i]
        if char == "]":
            break
        if char == "[" and pattern[i + 1 : i + 2] in (":", ".", "="):
            raise Refused("POSIX class")
        if char == "\\" and i + 1 < len(pattern):
            kind, text = _escape(pattern[i + 1])
            if kind == "set":
                if text.isupper():
                    raise Refused(f"\\{text} inside a class")
                text = _SETS[text]
            items.append((kind, text))
            i += 2
        else:
            items.append(("dash" if char == "-" else "char", char))
            i += 1
    else:
        raise Refused("unterminated class")
    if any(a[0] == b[0] == "dash" for a, b in itertools.pairwise(items)):
        raise Refused("a dash as a range end; write \\-")  # "[(--]": the engines disagree
    range_end = -1
    for k in range(1, len(items) - 1):  # a range's ends must be single characters
        if items[k][0] != "dash":
            continue
        if "set" in (items[k - 1][0], items[k + 1][0]):
            raise Refused("a class shorthand as a range end")
        if k - 1 == range_end:  # "a-b-c": RE2 reads a literal "-", PostgreSQL refuses it
            raise Refused("a range chained to another; write \\-")
        range_end = k + 1
    return head + "".join(text for _, text in items) + "]", i + 1


@dataclass
class _Group:
    """What PostgreSQL's compile cost depends on, for one group (and, closed, its contents)."""

    counted: bool = False  # holds a counted repetition
    anchored: bool = False  # holds ^ or $
    weight: int = 0  # quantifiers and branches inside, counted copies multiplied out


def _translate(pattern: str) -> str:
    out: list[str] = []
    repeatable = False  # is there an atom just before, for a quantifier to apply to?
    quantified = False  # was the last token a quantifier (so only a lazy "?" may follow)?
    # PostgreSQL compiles a counted group by copying it and an anchor inside a repeated group
    # by doubling its states: "(?:a*a*a*){255}b" or "(?:^|$){16}" cost it seconds. RE2 folds
    # both away, so its program size does not show the cost; these counts do.
    groups: list[_Group] = []
    closed: _Group | None = None  # the group just closed, when the atom before is one
    copies = anchors = 0  # over the whole pattern
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char in _QUANTIFIERS or char == "{":
            if char == "?" and quantified:
                out.append("?")  # lazy
                i, quantified = i + 1, False
                repeatable = False
                continue
            if not repeatable:
                raise Refused("nothing to repeat")
            if closed is not None and (closed.counted or closed.anchored):
                raise Refused("costly group repetition")  # "((?:a*){16})+", "(?:^|$)*"
            weight = 1
            if char == "{":
                match = _REPEAT.match(pattern, i)
                if not match:
                    raise Refused("a literal { must be escaped")
                low, _, high = match.groups()
                if int(low) > MAX_REPEAT or (high and not int(low) <= int(high) <= MAX_REPEAT):
                    raise Refused("repetition count")
                count = max(int(low), int(high or 0))
                if closed is not None:
                    copies += count
                    weight = closed.weight * count
                    if (
                        count > MAX_GROUP_REPEAT
                        or copies > MAX_GROUP_COPIES
                        or weight > MAX_GROUP_WEIGHT
                    ):
                        raise Refused("costly group repetition")
                if groups:
                    groups[-1].counted = True
                out.append(match.group(0))
                i = match.end()
            else:
                out.append(char)
                i += 1
            if groups:
                groups[-1].weight += weight
            repeatable, quantified = False, True
            continue
        quantified = False
        closed = None
        if char == "\\":
            if i + 1 >= len(pattern):
                raise Refused("trailing backslash")
            kind, text = _escape(pattern[i + 1])
            if kind == "set":
                text = f"[^{_SETS[text.lower()]}]" if text.isupper() else f"[{_SETS[text]}]"
            out.append(text)
            i += 2
            repeatable = True
        elif char == "[":
            text, i = _bracket(pattern, i)
            out.append(text)
            repeatable = True
        elif char == "(":
            if pattern.startswith("(?", i):
                if not pattern.startswith("(?:", i):
                    raise Refused("flags and special groups")
                out.append("(?:")
                i += 3
            else:
                out.append("(")
                i += 1
            groups.append(_Group())
            repeatable = False
        elif char == ")":
            if not groups:
                raise Refused("unbalanced )")
            closed = groups.pop()
            if groups:
                groups[-1].counted |= closed.counted
                groups[-1].anchored |= closed.anchored
                groups[-1].weight += closed.weight
            out.append(")")
            i += 1
            repeatable = True
        elif char in "|^$":
            if char != "|":
                anchors += 1
                if anchors > MAX_ANCHORS:
                    raise Refused("too many anchors")
            for group in groups[-1:]:
                group.anchored |= char != "|"
                group.weight += char == "|"
            out.append(char)
            i += 1
            repeatable = False
        elif char == "}":
            raise Refused("a literal } must be escaped")
        else:  # "." or a literal character
            out.append(char)
            i += 1
            repeatable = True
    return "".join(out)


@functools.lru_cache(maxsize=512)
def portable(pattern: str) -> str:
    """The pattern both engines run, or Refused."""
    if "\x00" in pattern:
        raise Refused("NUL")
    translated = _translate(pattern)
    try:
        compiled = re2.compile(translated, _OPTIONS)
    except re2.error as exc:
        raise Refused(str(exc)) from None
    if compiled.programsize > MAX_PROGRAM:
        raise Refused("too costly")
    return translated


@functools.lru_cache(maxsize=512)
def _compiled(translated: str):
    return re2.compile(translated, _OPTIONS)


def sqlite_regexp(translated: str, value: object) -> bool:
    """SQLite's REGEXP function (``value REGEXP pattern``), given a portable pattern."""
    if value is None:
        return False
    return _compiled(translated).search(str(value)) is not None
