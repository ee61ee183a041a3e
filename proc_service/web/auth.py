"""Access control (docs/api.md §7b): bearer tokens from PROC_API_TOKENS_FILE, off when unset.

The file lists tokens by the SHA-256 of the token, never the token itself. A request to /api/v3
must carry ``Authorization: Bearer <token>`` (else 401 / 1199027); the token must list the
request's supplier account (the path's, or HTTP_BLUEKING_SUPPLIER_ID where the path has none)
and, for a write, allow writes (else 403 / 9900403). The service endpoints of §7 stay open.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app, g, request

from ..context import ACCOUNT
from ..errors import ApiError

log = logging.getLogger(__name__)

API_PREFIX = "/api/v3/"
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_FIELDS = {"name", "sha256", "accounts", "write"}


class TokensFileError(ValueError):
    """PROC_API_TOKENS_FILE cannot be used: the service must not start without protection."""


@dataclass(frozen=True)
class Token:
    name: str
    digest: bytes  # SHA-256 of the token
    accounts: frozenset[str]  # "*": every account
    write: bool

    def allows(self, account: str) -> bool:
        return "*" in self.accounts or account in self.accounts


def load_tokens(path: str) -> tuple[Token, ...]:
    """The tokens of a file as §7b describes it, or TokensFileError saying what is wrong."""
    where = f"PROC_API_TOKENS_FILE {path}"
    if not path.strip():  # set but empty (an undefined ${VAR} in a unit file): fail closed
        raise TokensFileError("PROC_API_TOKENS_FILE is set but empty")
    try:
        entries = json.loads(Path(path).read_text(encoding="utf-8"), object_pairs_hook=_no_twins)
    except (OSError, UnicodeError, ValueError) as exc:
        raise TokensFileError(f"{where}: cannot read it as JSON ({exc})") from None
    if not isinstance(entries, list) or not entries:
        raise TokensFileError(f"{where}: must be a non-empty JSON list of tokens")
    tokens, names, digests = [], set(), set()
    for number, entry in enumerate(entries, 1):
        token = _token(entry, f"{where}: entry {number}")
        if token.name in names or token.digest in digests:
            raise TokensFileError(f"{where}: entry {number}: duplicate name or sha256")
        names.add(token.name)
        digests.add(token.digest)
        tokens.append(token)
    return tuple(tokens)


def _no_twins(pairs: list[tuple[str, object]]) -> dict:
    """json.loads keeps the last of repeated keys: '"write": false, "write": true' would read
    as read-only and be a writer. A repeated key is an error instead."""
    keys = [key for key, _ in pairs]
    twins = sorted({key for key in keys if keys.count(key) > 1})
    if twins:
        raise ValueError(f"repeated keys {twins}")
    return dict(pairs)


def _token(entry: object, where: str) -> Token:
    if not isinstance(entry, dict):
        raise TokensFileError(f"{where}: must be an object")
    unknown = set(entry) - _FIELDS
    if unknown:  # a typo ("acounts") must not quietly change what a token may do
        raise TokensFileError(f"{where}: unknown keys {sorted(unknown)}")
    name, digest = entry.get("name"), entry.get("sha256")
    accounts, write = entry.get("accounts"), entry.get("write", False)
    if (
        not isinstance(name, str)
        or not 1 <= len(name) <= 256
        or not name.isprintable()
        or name != name.strip()
    ):  # it is written into audit rows: visible, and without padding
        raise TokensFileError(f"{where}: 'name' must be 1-256 printable characters, unpadded")
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        raise TokensFileError(f"{where}: 'sha256' must be 64 hexadecimal characters")
    if (
        not isinstance(accounts, list)
        or not accounts
        or not all(isinstance(a, str) and (a == "*" or ACCOUNT.fullmatch(a)) for a in accounts)
    ):
        raise TokensFileError(f"{where}: 'accounts' must list supplier accounts or \"*\"")
    if not isinstance(write, bool):
        raise TokensFileError(f"{where}: 'write' must be true or false")
    return Token(name, bytes.fromhex(digest), frozenset(accounts), write)


def current() -> Token | None:
    """The request's token, when access control is on."""
    return g.get("token")


def init_app(app: Flask) -> None:
    path = app.config.get("API_TOKENS_FILE")
    tokens = None if path is None else load_tokens(path)
    app.extensions["api_tokens"] = tokens
    if tokens is None:
        log.info("access control off: PROC_API_TOKENS_FILE is not set")
    else:
        log.info("access control on: %d tokens from %s", len(tokens), path)


def authenticate() -> None:
    """401 unless an /api/v3 request carries a known token (when access control is on). Runs
    before anything else looks at the request: a client without a valid token learns nothing,
    not even that its path was malformed."""
    tokens = current_app.extensions["api_tokens"]
    if tokens is not None and request.path.startswith(API_PREFIX):
        g.token = _bearer(tokens)


def authorize(writes: bool, account: str | None) -> None:
    """403 unless the request's token lists ``account`` (None: data of no account) and, for a
    write, may write."""
    token = current()
    if token is None:
        return
    if (account is not None and not token.allows(account)) or (writes and not token.write):
        raise ApiError(9900403)


def _bearer(tokens: tuple[Token, ...]) -> Token:
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    sent = sent.strip()
    if scheme.lower() != "bearer" or not sent:
        raise ApiError(1199027, "token")
    try:  # WSGI hands header bytes over as Latin-1: this gives the client's bytes back
        digest = hashlib.sha256(sent.encode("latin-1")).digest()
    except UnicodeEncodeError:
        raise ApiError(1199027, "token") from None
    found = None
    for token in tokens:  # every entry is compared, in constant time, whichever matches
        if hmac.compare_digest(digest, token.digest):
            found = token
    if found is None:
        raise ApiError(1199027, "token")
    return found
