"""/docs in a real headless browser (tests/browser.py): Swagger UI comes from the service
itself, so the page renders every operation on a network with no way out."""

from __future__ import annotations

import pytest
import requests

from harness.gunicorn import gunicorn


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    db = tmp_path_factory.mktemp("docs") / "docs.sqlite3"
    with gunicorn(f"sqlite:///{db}") as base:
        yield base


@pytest.mark.slow
def test_docs_renders_every_operation_from_the_service_alone(page, base_url):
    spec = requests.get(f"{base_url}/openapi.json", timeout=5).json()
    expected = {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in ("get", "put", "post", "delete", "patch")
    }
    assert len(expected) >= 18  # the process, binding, set, module and audit operations

    docs = page(base_url)
    docs.tab.goto(f"{base_url}/docs")
    docs.tab.wait_for_function(
        f"document.querySelectorAll('.opblock').length >= {len(expected)}", timeout=15000
    )
    shown = {
        (
            block.query_selector(".opblock-summary-method").inner_text().strip(),
            block.query_selector(".opblock-summary-path").get_attribute("data-path"),
        )
        for block in docs.tab.query_selector_all(".opblock")
    }
    assert shown == expected
    assert docs.tab.inner_text(".information-container .title").startswith("proc-service")
    docs.tab.wait_for_load_state("networkidle")
    # Swagger UI's script and styles and the document, all from the service; nothing else.
    assert docs.foreign == []
    assert any(url.endswith("/docs/assets/swagger-ui-bundle.js") for url in docs.requests)
    assert docs.errors == []
    # everything the page asked for exists (it asked for /favicon.ico, which was a 404)
    missing = [url for url in docs.requests if requests.get(url, timeout=5).status_code >= 400]
    assert missing == []


def test_the_favicon_browsers_ask_for_is_served(base_url):
    icon = requests.get(f"{base_url}/favicon.ico", timeout=5)
    assert icon.status_code == 200
    assert icon.headers["Content-Type"] == "image/png"
    assert icon.content.startswith(b"\x89PNG")


@pytest.mark.slow
def test_swagger_ui_assets_are_served_with_their_license(base_url):
    script = requests.get(f"{base_url}/docs/assets/swagger-ui-bundle.js", timeout=5)
    assert script.status_code == 200
    assert "javascript" in script.headers["Content-Type"]
    assert len(script.content) > 100_000
    license_ = requests.get(f"{base_url}/docs/assets/LICENSE", timeout=5)
    assert "Apache License" in license_.text
    missing = requests.get(f"{base_url}/docs/assets/no-such-file.js", timeout=5)
    assert missing.status_code == 404
    assert missing.json()["result"] is False
