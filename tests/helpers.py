"""The names test modules have always imported from here; they live in kit.py now."""

from .kit import (  # noqa: F401
    BASE,
    CONTRACT_ATTRIBUTES,
    EN,
    SNAPSHOT_TABLES,
    SYSTEM_FIELDS,
    ZH,
    audit_rows,
    create,
    detail,
    err,
    libpq,
    ok,
    proc_url,
    race,
    search,
    search_url,
    skip_unless_linguistic,
    snapshot,
    wait_until_a_session_waits_for_a_lock,
)
