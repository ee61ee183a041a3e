"""The failover drill (issue 17, contract §16), run by deploy/ha/drill on a running
compose.ha.yaml stack:

    python3 deploy/ha/drill.py --base http://127.0.0.1:PORT --project NAME [--short]

Clients run a mixed load through nginx (creates with unique names, updates, binds, searches,
details), each reading back what it has just written. Mid-load the drill SIGKILLs the Patroni
leader's container, later one app replica, later starts the old leader again (it must rejoin
as a replica). Then it reads the database and checks:

- lost: every write answered 200 is there (each acknowledged create, the last acknowledged
  port of each process, each acknowledged binding);
- read-your-writes violations: no client ever read a state older than its own acknowledged
  write (a write that failed may or may not have happened: either state is accepted);
- non-envelope answers: every answer was 200 or the 503 envelope (never HTML, a reset
  connection, a hang past the client's timeout);
- write outage: the longest time around the leader's death with no write acknowledged;
- replica kill failed requests: answers other than 200 in the seconds after the replica died.

Prints the result last, on one line; exits 1 if anything was lost, read stale, answered outside
the envelope, or the outage passed --max-outage. Standard library only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

BIZ, ACCOUNT = 1, "0"
MODULE = "drill-module"
PROC = f"/api/v3/proc/{ACCOUNT}/{BIZ}"
SEARCH = f"/api/v3/proc/search/{ACCOUNT}/{BIZ}"
BINDINGS = f"/api/v3/proc/module/{ACCOUNT}/{BIZ}"
# The 503 family: the app's "database unavailable while ..." codes, and nginx's own.
UNAVAILABLE = set(range(1108001, 1108009)) | {1199999}


def log(message: str) -> None:
    print(f"drill: {time.strftime('%H:%M:%S')} {message}", flush=True)


# --- the stack ------------------------------------------------------------------------------


class Stack:
    def __init__(self, project: str):
        self.project = project

    def containers(self, service: str) -> list[str]:
        out = subprocess.run(
            [
                "podman",
                "ps",
                "-a",
                "--format",
                "{{.Names}}",
                "--filter",
                f"label=io.podman.compose.project={self.project}",
                "--filter",
                f"label=io.podman.compose.service={service}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return sorted(out.split())

    def node(self, member: str) -> str:
        (name,) = self.containers(member)
        return name

    def cluster(self) -> dict[str, dict]:
        """Patroni's view of the members, asked of any node that answers."""
        for member in ("pg1", "pg2", "pg3"):
            try:
                out = subprocess.run(
                    [
                        "podman",
                        "exec",
                        self.node(member),
                        "curl",
                        "-fsS",
                        "-m",
                        "2",
                        "http://127.0.0.1:8008/cluster",
                    ],
                    capture_output=True,
                    text=True,
                    timeout=10,
                )
            except subprocess.TimeoutExpired:
                continue
            if out.returncode == 0:
                return {m["name"]: m for m in json.loads(out.stdout)["members"]}
        return {}

    def leader(self) -> str | None:
        for name, member in self.cluster().items():
            if member["role"] == "leader" and member["state"] == "running":
                return name
        return None

    def healthy(self) -> bool:
        """A running leader and a running synchronous standby."""
        roles = {
            m["role"] for m in self.cluster().values() if m["state"] in ("running", "streaming")
        }
        return {"leader", "sync_standby"} <= roles

    def psql(self, sql: str) -> list[list[str]]:
        leader = self.leader()
        if leader is None:
            raise RuntimeError("no leader to read from")
        out = subprocess.run(
            [
                "podman",
                "exec",
                self.node(leader),
                "psql",
                "-U",
                "postgres",
                "-d",
                "proc",
                "-AtF",
                "\t",
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def kill(self, container: str) -> None:
        subprocess.run(["podman", "kill", "-s", "KILL", container], check=True, capture_output=True)

    def start(self, container: str) -> None:
        # podman may still be tearing the killed container down: try again for a while.
        for _ in range(30):
            out = subprocess.run(["podman", "start", container], capture_output=True, text=True)
            if out.returncode == 0:
                return
            time.sleep(1)
        raise RuntimeError(f"podman start {container}: {out.stderr.strip()}")


# --- the clients ----------------------------------------------------------------------------


@dataclass
class Answer:
    start: float
    end: float
    write: bool
    ok: bool  # 200 and the success envelope
    expected: bool  # ok, or the 503 envelope
    envelope: bool  # the envelope, whatever it says
    what: str


@dataclass
class Owned:
    """A process a client created and alone writes: what its reads may show."""

    pid: int
    name: str
    ports: set[str] = field(default_factory=set)  # the acknowledged port, and later attempts
    bound: bool = False  # an acknowledged binding (the drill never unbinds)


class Client(threading.Thread):
    def __init__(self, number: int, base: str, stop: threading.Event, seed: int):
        super().__init__(name=f"client-{number}", daemon=True)
        self.number = number
        self.host, self.port = urlsplit(base).hostname, urlsplit(base).port
        self.stop = stop
        self.random = random.Random(seed + number)
        self.answers: list[Answer] = []
        self.owned: list[Owned] = []
        self.maybe_created: list[str] = []  # creates not acknowledged: there or not
        self.violations: list[str] = []
        self.seq = 0

    def call(self, method: str, path: str, body=None, write=False):
        start = time.monotonic()
        status, out, what = None, None, ""
        try:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                conn.request(
                    method,
                    path,
                    body=None if body is None else json.dumps(body),
                    headers={"Content-Type": "application/json", "HTTP_BLUEKING_LANGUAGE": "en"},
                )
                resp = conn.getresponse()
                status, raw = resp.status, resp.read()
                ctype = resp.getheader("Content-Type", "")
            finally:
                conn.close()
            out = json.loads(raw) if ctype.startswith("application/json") else None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            what = f"{method} {path}: {type(exc).__name__}: {exc}"
        end = time.monotonic()
        ok = status == 200 and isinstance(out, dict) and out.get("result") is True
        envelope = isinstance(out, dict) and set(out) == {
            "result",
            "bk_error_code",
            "bk_error_msg",
            "data",
        }
        unavailable = status == 503 and envelope and out["bk_error_code"] in UNAVAILABLE
        if not (ok or unavailable) and not what:
            what = f"{method} {path}: {status} {str(out)[:200] if out is not None else 'not JSON'}"
        self.answers.append(Answer(start, end, write, ok, ok or unavailable, envelope, what))
        return (out["data"] if ok else None), ok, status, out

    # Each write is followed at once by a read of what it wrote: the closest a client can
    # come to catching a replica that has not yet applied it.
    def run(self) -> None:
        while not self.stop.is_set():
            r = self.random.random()
            if not self.owned or r < 0.3:
                self.create()
            elif r < 0.6:
                self.update(self.random.choice(self.owned))
            elif r < 0.7:
                self.bind(self.random.choice(self.owned))
            elif r < 0.85:
                self.check_detail(self.random.choice(self.owned))
            else:
                self.check_search(self.random.choice(self.owned))

    def create(self) -> None:
        self.seq += 1
        name = f"drill-{self.number:03d}-{self.seq:07d}"  # fixed width: none contains another
        body = {"bk_process_name": name, "bk_func_name": "drill", "port": "1"}
        data, ok, _, _ = self.call("POST", PROC, body, write=True)
        if not ok:
            self.maybe_created.append(name)
            return
        owned = Owned(pid=data["bk_process_id"], name=name, ports={"1"})
        self.owned.append(owned)
        self.check_search(owned)

    def update(self, owned: Owned) -> None:
        port = str(self.random.randint(2, 65535))
        _, ok, _, _ = self.call("PUT", f"{PROC}/{owned.pid}", {"port": port}, write=True)
        if ok:
            owned.ports = {port}
            self.check_detail(owned)
        else:
            owned.ports.add(port)  # it may have been applied before the failure

    def bind(self, owned: Owned) -> None:
        if owned.bound:
            return
        _, ok, _, _ = self.call("PUT", f"{BINDINGS}/{owned.pid}/{MODULE}", write=True)
        if ok:
            owned.bound = True
            self.check_bindings(owned)

    def check_detail(self, owned: Owned) -> None:
        data, ok, status, _ = self.call("GET", f"{PROC}/{owned.pid}")
        if ok:
            port = {row["bk_property_id"]: row["bk_property_value"] for row in data}["port"]
            if port not in owned.ports:
                self.violations.append(f"detail of {owned.pid}: port {port}, wrote {owned.ports}")
        elif status == 404:
            self.violations.append(f"detail of {owned.pid}: 404 after its acknowledged create")

    def check_search(self, owned: Owned) -> None:
        body = {"condition": {"bk_process_name": owned.name}, "fields": ["bk_process_id"]}
        data, ok, _, _ = self.call("POST", SEARCH, body)
        if ok and [row["bk_process_id"] for row in data["info"]] != [owned.pid]:
            self.violations.append(f"search {owned.name}: {data}, created {owned.pid}")

    def check_bindings(self, owned: Owned) -> None:
        data, ok, _, _ = self.call("GET", f"{BINDINGS}/{owned.pid}")
        if ok and not any(m["bk_module_name"] == MODULE and m["is_bind"] == 1 for m in data):
            self.violations.append(f"bindings of {owned.pid}: {MODULE} not bound in {data}")


# --- the drill ------------------------------------------------------------------------------


def wait_for(what: str, check, seconds: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if check():
            return time.monotonic() - start
        time.sleep(0.5)
    raise SystemExit(f"drill: FAILED: {what} within {seconds:.0f} s")


def ready(base: str) -> bool:
    try:
        conn = http.client.HTTPConnection(urlsplit(base).hostname, urlsplit(base).port, timeout=5)
        conn.request("GET", "/readyz")
        return conn.getresponse().status == 200
    except OSError:
        return False


def setup(base: str) -> None:
    """The module the clients bind to: a set and a module of business 1."""
    client = Client(0, base, threading.Event(), 0)
    call = client.call  # through nginx, like every request
    data, ok, status, out = call("POST", f"/api/v3/set/{BIZ}", {"bk_set_name": "drill"})
    assert ok, (status, out)
    data, ok, status, out = call(
        "POST", f"/api/v3/module/{BIZ}/{data['bk_set_id']}", {"bk_module_name": MODULE}
    )
    assert ok, (status, out)


def acknowledged_since(clients: list[Client], since: float) -> bool:
    return any(a.write and a.ok and a.start > since for c in clients for a in list(c.answers))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--project", required=True)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--short", action="store_true", help="CI's version: shorter phases")
    parser.add_argument("--max-outage", type=float, default=15.0)
    parser.add_argument(
        "--delete-acknowledged-row",
        action="store_true",
        help="proof that the lost-write check can fail: delete an acknowledged process "
        "behind the drill's back before checking",
    )
    args = parser.parse_args()
    warm, settle, window = (6, 4, 6) if args.short else (20, 10, 10)
    stack = Stack(args.project)

    log("waiting for the cluster (a leader and a synchronous standby) and the app")
    wait_for("a healthy cluster", stack.healthy, 180)
    wait_for("the app ready through nginx", lambda: ready(args.base), 180)
    setup(args.base)

    stop = threading.Event()
    clients = [Client(n, args.base, stop, seed=17) for n in range(1, args.clients + 1)]
    for c in clients:
        c.start()
    log(f"{args.clients} clients running")
    time.sleep(warm)

    leader = stack.leader()
    if leader is None:
        raise SystemExit("drill: FAILED: no leader before the kill")
    old_leader = stack.node(leader)
    stack.kill(old_leader)
    leader_killed = time.monotonic()  # once podman has sent the signal
    log(f"killed the leader {leader} ({old_leader}) with SIGKILL")
    took = wait_for(
        "writes acknowledged again", lambda: acknowledged_since(clients, leader_killed), 90
    )
    log(f"writes acknowledged again {took:.1f} s after the kill")
    time.sleep(settle)

    replica = stack.containers("app")[0]
    stack.kill(replica)
    replica_killed = time.monotonic()
    log(f"killed the app replica {replica} with SIGKILL")
    time.sleep(window)
    replica_window_end = time.monotonic()

    stack.start(old_leader)
    log(f"started the old leader {leader} again")

    def rejoined() -> bool:
        member = stack.cluster().get(leader, {})
        return member.get("role") in ("replica", "sync_standby") and member.get("state") in (
            "running",
            "streaming",
        )

    took = wait_for(f"{leader} rejoining as a replica", rejoined, 120)
    log(f"{leader} rejoined as {stack.cluster()[leader]['role']} {took:.1f} s after its start")
    # Only now: podman starts a container's dependencies with it, and one was dead until now.
    stack.start(replica)
    log(f"started {replica} again")
    time.sleep(settle)
    stop.set()
    for c in clients:
        c.join(60)

    if args.delete_acknowledged_row:
        victim = next(o for c in clients for o in c.owned)
        stack.psql(f"DELETE FROM processes WHERE bk_process_id = {victim.pid}")
        log(f"deleted acknowledged process {victim.pid} behind the drill's back")

    # What the database holds, read from the leader.
    rows = {
        int(pid): (name, port)
        for pid, name, port in stack.psql(
            "SELECT bk_process_id, bk_process_name, port FROM processes"
        )
    }
    bound = {
        int(pid)
        for (pid,) in stack.psql(
            f"SELECT bk_process_id FROM process_bindings WHERE bk_module_name = '{MODULE}'"
        )
    }
    lost: list[str] = []
    for c in clients:
        for o in c.owned:
            if o.pid not in rows or rows[o.pid][0] != o.name:
                lost.append(f"process {o.pid} ({o.name}) acknowledged, not in the database")
            elif rows[o.pid][1] not in o.ports:
                lost.append(f"process {o.pid}: port {rows[o.pid][1]}, acknowledged {o.ports}")
            if o.bound and o.pid not in bound:
                lost.append(f"process {o.pid}: acknowledged binding to {MODULE} missing")
    violations = [v for c in clients for v in c.violations]
    answers = sorted((a for c in clients for a in c.answers), key=lambda a: a.start)
    strays = [a for a in answers if not a.envelope]
    # Envelopes other than 200 and 503 (a 404 for a process just created): already counted
    # as read-your-writes violations where that is what they are; any other fails the drill.
    others = [a for a in answers if a.envelope and not a.expected]
    writes = [a for a in answers if a.write and a.ok]
    # The write outage: from the last write acknowledged before the kill to the first write
    # sent after it that was acknowledged.
    before = max((a.end for a in writes if a.end <= leader_killed), default=leader_killed)
    after = min((a.end for a in writes if a.start > leader_killed), default=time.monotonic())
    outage = after - before
    replica_failures = [
        a for a in answers if replica_killed <= a.start < replica_window_end and not a.ok
    ]
    unavailable = sum(1 for a in answers if a.expected and not a.ok)
    slowest = max((a.end - a.start for a in answers), default=0)
    log(
        f"answers {len(answers)}: 200 {sum(a.ok for a in answers)}, 503 envelope {unavailable},"
        f" other error envelopes {len(others)}; the slowest took {slowest:.1f} s"
    )
    for line in lost[:10]:
        log(f"LOST: {line}")
    for line in violations[:10]:
        log(f"READ-YOUR-WRITES: {line}")
    for a in strays[:10]:
        log(f"NOT AN ENVELOPE: {a.what}")
    for a in others[:10]:
        log(f"UNEXPECTED ERROR: {a.what}")
    for a in replica_failures[:5]:
        log(f"during the replica kill: {a.what or 'the 503 envelope'}")
    print(
        f"drill: writes acknowledged {len(writes)}, lost {len(lost)}, read-your-writes "
        f"violations {len(violations)}, write outage {outage:.1f} s, non-envelope answers "
        f"{len(strays)}, replica kill failed requests {len(replica_failures)}",
        flush=True,
    )
    failed = lost or violations or strays or others or outage > args.max_outage or not writes
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
