"""A Python client generated from /openapi.json by openapi-python-client (pinned in
requirements-dev.txt) runs the seed's whole flow (issue 9).

The client is generated at test time, into a temporary directory, from the document the app
serves (a few seconds), so that a change to the document that breaks generated clients fails
the build; nothing generated is committed. It talks to the app over httpx's WSGI transport, on
each database.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from proc_service import create_app

from .kit import SEED_CREATE as CREATE
from .kit import SEED_SEARCH as SEARCH

GENERATOR = Path(sys.executable).parent / "openapi-python-client"
PACKAGE = "proc_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The generated package, imported."""
    work = tmp_path_factory.mktemp("generated")
    app = create_app({"DATABASE_URL": f"sqlite:///{work / 'doc.sqlite3'}", "LOG_LEVEL": "WARNING"})
    document = work / "openapi.json"
    document.write_bytes(app.test_client().get("/openapi.json").get_data())
    app.extensions["db_engine"].dispose()
    config = work / "config.yaml"
    config.write_text("post_hooks: []\n")  # no formatter run: the code is imported, not read
    command = [str(GENERATOR), "generate", "--path", str(document), "--meta", "none"]
    command += ["--output-path", str(work / PACKAGE), "--config", str(config), "--fail-on-warning"]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(work))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(work))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _client(generated, app, **headers):
    client = generated.Client(base_url="http://proc-service", raise_on_unexpected_status=True)
    transport = httpx.WSGITransport(app=app)
    client.set_httpx_client(
        httpx.Client(base_url="http://proc-service", transport=transport, headers=headers)
    )
    return client


class _Operations:
    """The generated modules of one tag (api/process/create_process.py, ...), by name."""

    def __init__(self, group: str):
        self.group = group

    def __getattr__(self, name: str):
        return importlib.import_module(f"{PACKAGE}.api.{self.group}.{name}")


def test_the_seeds_whole_flow_through_a_generated_client(generated, app):
    models = importlib.import_module(f"{PACKAGE}.models")
    process, binding, set_, module = (
        _Operations(group) for group in ("process", "binding", "set_", "module")
    )
    client = _client(generated, app, BK_User="gen-client", HTTP_BLUEKING_LANGUAGE="en")
    biz = 12233

    # sets and modules first (the account from HTTP_BLUEKING_SUPPLIER_ID)
    created_set = set_.create_set.sync(
        bk_biz_id=biz, client=client, body=models.SetCreate(bk_set_name="web")
    )
    assert isinstance(created_set, models.SetCreated), created_set
    set_id = created_set.data.bk_set_id
    for name in ("gameserver", "db"):
        created = module.create_module.sync(
            bk_biz_id=biz,
            bk_set_id=set_id,
            client=client,
            body=models.ModuleCreate(bk_module_name=name),
            http_blueking_supplier_id="0",
        )
        assert created.data.bk_module_name == name

    # create_process with the seed's body (port as a number, as the seed writes it)
    body = models.ProcessCreate.from_dict(CREATE)
    first = process.create_process.sync("0", biz, client=client, body=body)
    assert isinstance(first, models.Created), first
    other = process.create_process.sync(
        "0",
        biz,
        client=client,
        body=models.ProcessCreate.from_dict({**CREATE, "bk_process_name": "apache"}),
    )
    pid, other_id = first.data.bk_process_id, other.data.bk_process_id

    # search_process with the seed's body
    found = process.search_process.sync(
        "0", biz, client=client, body=models.ProcessSearch.from_dict(SEARCH)
    )
    assert found.data.count == 1
    assert [(p.bk_process_id, p.bk_process_name) for p in found.data.info] == [(pid, "nginx")]

    # get_process_detail: 22 rows, names in English
    detail = process.get_process_detail.sync("0", biz, pid, client=client)
    rows = {row.bk_property_id: row for row in detail.data}
    assert len(detail.data) == 22
    assert rows["bk_process_name"].bk_property_name == "process name"
    assert rows["port"].bk_property_value == "80"

    # update_process, then batch_update_process
    updated = process.update_process.sync(
        "0", biz, pid, client=client, body=models.ProcessUpdate(user="nobody")
    )
    assert updated.data == "success"
    batch = models.ProcessBatchUpdate.from_dict(
        {"bk_process_id": f"{pid},{other_id}", "start_cmd": "./start.sh 8080", "port": "1000"}
    )
    assert process.batch_update_process.sync("0", biz, client=client, body=batch).data == "success"
    everything = process.search_process.sync(
        "0", biz, client=client, body=models.ProcessSearch.from_dict({"page": {"sort": "id"}})
    )
    assert [(p.user, p.start_cmd, p.port) for p in everything.data.info] == [
        ("nobody", "./start.sh 8080", "1000"),
        ("cc", "./start.sh 8080", "1000"),
    ]

    # bind, list the modules, unbind
    bound = binding.bind_process_module.sync("0", biz, pid, "gameserver", client=client)
    assert bound.data == "success"
    listed = binding.get_process_bind_module.sync("0", biz, pid, client=client)
    assert [(m.bk_module_name, m.set_num, int(m.is_bind)) for m in listed.data] == [
        ("gameserver", 1, 1),
        ("db", 1, 0),
    ]
    unbound = binding.delete_process_module_binding.sync("0", biz, pid, "gameserver", client=client)
    assert unbound.data == "success"
    listed = binding.get_process_bind_module.sync("0", biz, pid, client=client)
    assert [int(m.is_bind) for m in listed.data] == [0, 0]

    # delete_process; an error comes back as the documented error envelope
    assert process.delete_process.sync("0", biz, pid, client=client).data == "success"
    gone = process.get_process_detail.sync_detailed("0", biz, pid, client=client)
    assert gone.status_code == 404
    assert isinstance(gone.parsed, models.ErrorEnvelope)
    assert (gone.parsed.result, gone.parsed.bk_error_code) == (False, 1199019)
    assert gone.headers["X-Request-Id"]

    # the audit trail, read through the client as well
    trail = _Operations("audit").search_audit.sync(
        client=client,
        body=models.AuditSearch.from_dict({"condition": {"bk_biz_id": biz}, "limit": 200}),
    )
    assert {row.operator for row in trail.data.info} == {"gen-client"}
    assert trail.data.info[0].op_desc == "delete process"
