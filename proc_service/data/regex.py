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


class _Translator:
    """Reads a pattern token by token and writes the portable form (see the module's rules).

    PostgreSQL compiles a counted group by copying it and an anchor inside a repeated group by
    doubling its states: "(?:a*a*a*){255}b" or "(?:^|$){16}" cost it seconds. RE2 folds both
    away, so its program size does not show the cost; the counts kept here do.
    """

    def __init__(self, pattern: str):
        self.pattern = pattern
        self.out: list[str] = []
        self.repeatable = False  # is there an atom just before, for a quantifier to apply to?
        self.quantified = False  # was the last token a quantifier (only a lazy "?" may follow)?
        self.groups: list[_Group] = []
        self.closed: _Group | None = None  # the group just closed, when the atom before is one
        self.copies = self.anchors = 0  # over the whole pattern

    def run(self) -> str:
        i = 0
        while i < len(self.pattern):
            char = self.pattern[i]
            if char in _QUANTIFIERS or char == "{":
                i = self._quantifier(i)
                continue
            self.quantified = False
            self.closed = None
            i = self._atom(i)
        return "".join(self.out)

    def _quantifier(self, i: int) -> int:
        char = self.pattern[i]
        if char == "?" and self.quantified:
            self.out.append("?")  # lazy
            self.repeatable = self.quantified = False
            return i + 1
        if not self.repeatable:
            raise Refused("nothing to repeat")
        closed = self.closed
        if closed is not None and (closed.counted or closed.anchored):
            raise Refused("costly group repetition")  # "((?:a*){16})+", "(?:^|$)*"
        weight = 1
        if char == "{":
            weight, i = self._count(i)
        else:
            self.out.append(char)
            i += 1
        if self.groups:
            self.groups[-1].weight += weight
        self.repeatable, self.quantified = False, True
        return i

    def _count(self, i: int) -> tuple[int, int]:
        """A {n}, {n,} or {n,m} repetition: its weight and where the pattern goes on."""
        match = _REPEAT.match(self.pattern, i)
        if not match:
            raise Refused("a literal { must be escaped")
        low, _, high = match.groups()
        if int(low) > MAX_REPEAT or (high and not int(low) <= int(high) <= MAX_REPEAT):
            raise Refused("repetition count")
        count = max(int(low), int(high or 0))
        weight = 1
        if self.closed is not None:
            self.copies += count
            weight = self.closed.weight * count
            if (
                count > MAX_GROUP_REPEAT
                or self.copies > MAX_GROUP_COPIES
                or weight > MAX_GROUP_WEIGHT
            ):
                raise Refused("costly group repetition")
        if self.groups:
            self.groups[-1].counted = True
        self.out.append(match.group(0))
        return weight, match.end()

    def _atom(self, i: int) -> int:
        char, pattern = self.pattern[i], self.pattern
        self.repeatable = True
        if char == "\\":
            if i + 1 >= len(pattern):
                raise Refused("trailing backslash")
            kind, text = _escape(pattern[i + 1])
            if kind == "set":
                text = f"[^{_SETS[text.lower()]}]" if text.isupper() else f"[{_SETS[text]}]"
            self.out.append(text)
            return i + 2
        if char == "[":
            text, i = _bracket(pattern, i)
            self.out.append(text)
            return i
        if char == "(":
            return self._open(i)
        if char == ")":
            return self._close(i)
        if char in "|^$":
            self._branch_or_anchor(char)
            return i + 1
        if char == "}":
            raise Refused("a literal } must be escaped")
        self.out.append(char)  # "." or a literal character
        return i + 1

    def _open(self, i: int) -> int:
        if self.pattern.startswith("(?", i):
            if not self.pattern.startswith("(?:", i):
                raise Refused("flags and special groups")
            self.out.append("(?:")
            i += 3
        else:
            self.out.append("(")
            i += 1
        self.groups.append(_Group())
        self.repeatable = False
        return i

    def _close(self, i: int) -> int:
        if not self.groups:
            raise Refused("unbalanced )")
        closed = self.closed = self.groups.pop()
        if self.groups:
            self.groups[-1].counted |= closed.counted
            self.groups[-1].anchored |= closed.anchored
            self.groups[-1].weight += closed.weight
        self.out.append(")")
        return i + 1

    def _branch_or_anchor(self, char: str) -> None:
        if char != "|":
            self.anchors += 1
            if self.anchors > MAX_ANCHORS:
                raise Refused("too many anchors")
        for group in self.groups[-1:]:
            group.anchored |= char != "|"
            group.weight += char == "|"
        self.out.append(char)
        self.repeatable = False


@functools.lru_cache(maxsize=512)
def portable(pattern: str) -> str:
    """The pattern both engines run, or Refused."""
    if "\x00" in pattern:
        raise Refused("NUL")
    translated = _Translator(pattern).run()
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


_META = set(".[](){}*+?|\\$^")


def literal_prefix(pattern: str) -> str | None:
    """The text every match of an anchored pattern starts with ("^proc-42[0-9]" → "proc-42"),
    or None. Patterns with an alternation anywhere are left alone ("^a|b")."""
    if not pattern.startswith("^") or "|" in pattern:
        return None
    end = 1
    while end < len(pattern) and pattern[end] not in _META:
        end += 1
    prefix = pattern[1:end]
    if end < len(pattern) and pattern[end] in "*?{":  # the last character may be absent
        prefix = prefix[:-1]
    if not prefix or 0xD7FF <= ord(prefix[-1]) < 0xE000 or ord(prefix[-1]) >= 0x10FFFF:
        return None  # no storable character right after it
    return prefix


def required_literal(pattern: str) -> str | None:
    """The longest text that every match of ``pattern`` contains ("4242[0-9]-" → "4242"), or
    None. Conservative: only runs of plain characters outside groups and classes count, none
    where an alternation stands anywhere or a group sets flags; a character that a quantifier
    may drop or repeat (``*``, ``?``, ``{n,m}``) is not part of a run, and an escape or a
    quantified character ends one."""
    if "|" in pattern or re.search(r"\(\?[^:]", pattern):
        return None
    runs: list[str] = []
    run = ""
    depth = i = 0
    while i < len(pattern):
        char = pattern[i]
        if char in "*?{":
            run = run[:-1]  # the character before may be absent (or, in {n,m}, repeated)
        if char in _META or depth:
            runs.append(run)
            run = ""
        if char == "[":
            i = _class_end(pattern, i)
            continue
        if char == "\\":
            i += 2
            continue
        if char == "{":
            i = pattern.find("}", i) + 1 or len(pattern)
            continue
        depth += (char == "(") - (char == ")")
        if char not in _META and not depth:
            run += char
        i += 1
    longest = max([*runs, run], key=len)
    return longest or None


def _class_end(pattern: str, i: int) -> int:
    """The index after the bracket expression starting at pattern[i] == "["."""
    i += 1
    if pattern.startswith("^", i):
        i += 1
    if pattern.startswith("]", i):
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return i + 1
