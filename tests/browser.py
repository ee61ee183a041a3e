"""A real browser for page tests: Debian's headless Chromium driven by Playwright (never
``playwright install``), and a live server on a free loopback port.

A pytest plugin (tests/conftest.py lists it in ``pytest_plugins``): any test may ask for
``browser``, ``live_server`` and ``page``.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from proc_service import create_app

ROOT = Path(__file__).resolve().parent.parent
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
# Screenshots of the pages, kept as test artifacts (gitignored).
ARTIFACTS = Path(os.environ.get("PROC_TEST_ARTIFACTS", ROOT / "artifacts"))


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI requires the browser tests: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class LiveServer:
    """create_app served by werkzeug on 127.0.0.1 in a thread of the test process."""

    def __init__(self, overrides: dict):
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        self.app = create_app({"LOG_LEVEL": "WARNING", **overrides})
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.app.extensions["db_engine"].dispose()


@pytest.fixture
def live_server(fresh_db):
    """live_server(**config) -> a LiveServer on a fresh migrated SQLite database."""
    started: list[LiveServer] = []

    def start(**overrides) -> LiveServer:
        server = LiveServer({"DATABASE_URL": fresh_db("sqlite"), **overrides})
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


class Page:
    """A browser tab (1280x800 unless told) that records every request it makes; requests to
    any host but the server's are aborted and listed in ``foreign``."""

    def __init__(self, browser, base: str, viewport=(1280, 800), locale="en-US"):
        self.base = base
        self.context = browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]}, locale=locale
        )
        self.requests: list[str] = []
        self.foreign: list[str] = []
        own = urlsplit(base).netloc
        self.context.route("**/*", self._route(own))
        self.tab = self.context.new_page()
        self.tab.set_default_timeout(10_000)
        self.errors: list[str] = []
        self.tab.on("pageerror", lambda exc: self.errors.append(str(exc)))
        # a blocked load or inline style (the pages' Content-Security-Policy) is an error too
        self.tab.on(
            "console",
            lambda msg: (
                self.errors.append(msg.text)
                if msg.type == "error" and "Content Security Policy" in msg.text
                else None
            ),
        )

    def _route(self, own: str):
        def handle(route):
            url = route.request.url
            self.requests.append(url)
            if urlsplit(url).scheme in ("data", "blob") or urlsplit(url).netloc == own:
                route.continue_()
            else:
                self.foreign.append(url)
                route.abort()

        return handle

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.tab.screenshot(path=str(path), full_page=False)
        return path

    def close(self):
        self.context.close()


@pytest.fixture
def page(browser):
    """page(base_url, **options) -> Page; every page is closed after the test."""
    opened: list[Page] = []

    def open_(base: str, **options) -> Page:
        p = Page(browser, base, **options)
        opened.append(p)
        return p

    yield open_
    for p in opened:
        p.close()
