"""The pages' files (docs/api.md §12) as the service serves them: no browser needed here."""

from __future__ import annotations

import re
from pathlib import Path

from proc_service.api.ui import ROOT
from proc_service.attributes import PROCESS

JS = ROOT / "js"


def test_index_and_modules_are_served_with_a_strict_policy(client):
    page = client.get("/ui/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    script = client.get("/ui/js/main.js")
    assert script.status_code == 200 and script.mimetype in (
        "text/javascript",
        "application/javascript",
    )
    assert client.get("/ui/app.css").mimetype == "text/css"
    assert client.get("/ui").status_code == 308


def test_nothing_outside_the_pages_folder_is_served(client):
    for path in (
        "/ui/../attributes.py",
        "/ui/%2e%2e/attributes.py",
        "/ui/js/../../auth.py",
        "/ui/nope.js",
    ):
        assert client.get(path).status_code == 404, path


def test_every_asset_is_local():
    """No CDN, no other host: every import and link in the files is relative."""
    files = [*ROOT.glob("*.html"), *ROOT.glob("*.css"), *JS.glob("*.js")]
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"https?://", text), path
        for target in re.findall(r'from "([^"]+)"', text):
            assert target.startswith("./") and (path.parent / target).exists(), (path, target)


def test_batch_exclusions_match_the_attribute_table():
    """list.js offers in a batch what the service accepts there (§3)."""
    text = (JS / "list.js").read_text(encoding="utf-8")
    listed = re.search(r"export const NOT_IN_BATCH = \[([^\]]*)\]", text).group(1)
    names = set(re.findall(r'"([a-z_]+)"', listed))
    assert names == {a.id for a in PROCESS.writable if not a.batch_writable}


def test_every_message_has_both_languages():
    text = (JS / "i18n.js").read_text(encoding="utf-8")
    for key, zh, en in re.findall(r'^  (\w+): \["([^"]*)", "([^"]*)"\],$', text, re.M):
        assert (zh and en and zh != en) or key in {"setNum"}, key


def test_first_load_is_small():
    """Everything the pages can load at once, uncompressed, is well under 300 KB."""
    total = sum(p.stat().st_size for p in ROOT.rglob("*") if p.is_file())
    assert total < 300_000, total
    assert Path(ROOT / "index.html").exists()
