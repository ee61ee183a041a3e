"""The request log (one JSON line per request): refused requests are logged like any other,
with their real status and a real duration, whichever step refused them."""

from __future__ import annotations

import hashlib
import json

import pytest

from proc_service import create_app

READER = "reader-s3cret"
TOKENS = [
    {"name": "reader", "sha256": hashlib.sha256(READER.encode()).hexdigest(), "accounts": ["0"]}
]


@pytest.fixture
def logged_app(db_url, tmp_path):
    """Makes the app inside the test, where capsys captures what its log handler writes."""
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps(TOKENS))
    made = []

    def make():
        overrides = {"DATABASE_URL": db_url, "LOG_LEVEL": "INFO", "API_TOKENS_FILE": str(path)}
        made.append(create_app(overrides))
        return made[-1]

    yield make
    for app in made:
        app.extensions["db_engine"].dispose()


def _request_lines(capsys) -> list[dict]:
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    return [line for line in lines if line["message"] == "request"]


@pytest.mark.parametrize(
    ("method", "url", "headers", "status"),
    [
        ("POST", "/api/v3/proc/search/0/1", {}, 401),  # no token
        ("POST", "/api/v3/proc/0/1", {"Authorization": f"Bearer {READER}"}, 403),  # read-only
        ("POST", "/api/v3/proc/search/acme/1", {"Authorization": f"Bearer {READER}"}, 403),
        ("GET", "/api/v3/proc/0/x/1", {"Authorization": f"Bearer {READER}"}, 400),  # bad path
        ("POST", "/api/v3/proc/search/0/1", {"Authorization": f"Bearer {READER}"}, 200),
    ],
)
def test_every_answer_is_logged_with_its_status_and_a_real_duration(
    logged_app, capsys, method, url, headers, status
):
    client = logged_app().test_client()
    capsys.readouterr()
    resp = client.open(url, method=method, json={}, headers=headers)
    assert resp.status_code == status
    lines = _request_lines(capsys)
    assert len(lines) == 1, lines
    (line,) = lines
    assert line["status"] == status and line["path"] == url and line["method"] == method
    assert line["duration_ms"] > 0  # measured from the first step, refusals included
    assert line["request_id"] == resp.headers["X-Request-Id"]
