"""A real headless browser for page tests: Debian's chromium, driven by Playwright for Python.

    from .browser import open_page  # the `browser` fixture comes via conftest's pytest_plugins

    def test_page(browser, base_url):
        with open_page(browser, f"{base_url}/docs", wait_for="h1") as (page, origins):
            ...
        assert origins == {base_url}

Playwright's own browser download is never used (`playwright install` is not needed): the
system's /usr/bin/chromium (`apt-get install chromium`) is launched instead. Without it, the
tests skip saying why, except under CI=true, where that is a failure.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("PROC_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        reason = f"no chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI requires a browser: {reason}")
        pytest.skip(f"skipping browser tests: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@contextmanager
def open_page(browser, url: str, wait_for: str | None = None):
    """A new page in its own context (no shared cache or cookies) at ``url``, once ``wait_for``
    (a CSS selector) is visible. Yields the page and the set of origins ("http://host:port")
    the browser sent any request to (data: and blob: URLs never leave the browser and are not
    counted); the set keeps growing while the page lives."""
    context = browser.new_context()
    try:
        page = context.new_page()
        origins: set[str] = set()

        def record(request):
            parts = urlsplit(request.url)
            if parts.scheme not in ("data", "blob"):
                origins.add(f"{parts.scheme}://{parts.netloc}")

        page.on("request", record)
        page.goto(url)
        if wait_for:
            page.wait_for_selector(wait_for, timeout=15000)
        yield page, origins
    finally:
        context.close()
