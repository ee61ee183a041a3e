"""Settings from the environment (PROC_* variables). The README's configuration table lists them."""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{ROOT / 'instance' / 'proc_service.sqlite3'}"


class ConfigError(ValueError):
    """A setting the service cannot run with: start-up stops with this message."""


def time_zone(name: str | None = None) -> ZoneInfo:
    """PROC_TIME_ZONE, an IANA name (default UTC): the zone of audit times sent without an
    offset (§5), as bk-cmdb read them in its server's zone."""
    if name is None:
        name = os.environ.get("PROC_TIME_ZONE", "") or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(
            f"PROC_TIME_ZONE={name!r} is not an IANA time zone name (such as UTC or Asia/Shanghai)"
        ) from None


def database_url() -> str:
    return os.environ.get("PROC_DATABASE_URL") or DEFAULT_DATABASE_URL


def from_environment() -> dict:
    return {
        "DATABASE_URL": database_url(),
        # Issue 17: searches and details may read from a replica (a synchronous standby, so
        # that a client reads its own acknowledged writes); writes never do. Unset: one URL.
        "DATABASE_READ_URL": os.environ.get("PROC_DATABASE_READ_URL") or None,
        # bk-cmdb answers in Chinese unless told otherwise.
        "DEFAULT_LANGUAGE": "en" if os.environ.get("PROC_DEFAULT_LANGUAGE") == "en" else "zh",
        "MAX_CONTENT_LENGTH": int(os.environ.get("PROC_MAX_BODY_BYTES", 1024 * 1024)),
        "DB_POOL_SIZE": int(os.environ.get("PROC_DB_POOL_SIZE", 5)),
        "DB_BUSY_TIMEOUT_MS": int(os.environ.get("PROC_DB_BUSY_TIMEOUT_MS", 10000)),
        # SQLite's PRAGMA synchronous in WAL mode (issue 7): NORMAL, or FULL to sync every commit.
        "SQLITE_SYNCHRONOUS": os.environ.get("PROC_SQLITE_SYNCHRONOUS", "NORMAL"),
        "LOG_LEVEL": os.environ.get("PROC_LOG_LEVEL", "INFO").upper(),
        # A $regex search gets this long (per statement on PostgreSQL), then 400 / 1199006.
        "REGEX_TIMEOUT_MS": int(os.environ.get("PROC_REGEX_TIMEOUT_MS", 2000)),
        # Access control (§7b): a JSON file of token digests; unset, /api/v3 is open.
        # Set but empty is an error at start-up, not "off": it fails closed.
        "API_TOKENS_FILE": os.environ.get("PROC_API_TOKENS_FILE"),
        # Audit search reads a time without an offset in this zone (§5); a bad name stops here.
        "TIME_ZONE": time_zone(),
        # §15: a watch with nothing new is held this long; each worker holds at most this
        # many at once (each holds a thread: keep it under PROC_THREADS), past that a watch
        # answers at once; on SQLite a held watch reads again this often.
        "WATCH_HOLD_SECONDS": float(os.environ.get("PROC_WATCH_HOLD_SECONDS", 20)),
        "WATCHERS_PER_WORKER": int(os.environ.get("PROC_WATCHERS_PER_WORKER", 16)),
        "WATCH_POLL_SECONDS": float(os.environ.get("PROC_WATCH_POLL_SECONDS", 0.25)),
    }
