"""gunicorn settings: `gunicorn -c gunicorn.conf.py wsgi:app`. Environment overrides in README."""

import os
import shutil
import sys
import tempfile

bind = os.environ.get("PROC_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("PROC_WORKERS", "2"))
# gthread: each worker serves up to `threads` requests at once and keeps idle keep-alive
# connections in its event loop, so a few clients that send a body slowly (each holds one
# thread while gunicorn reads its body) cannot take every worker, as they could take the two
# sync workers this used to run. The app keeps its per-request state in flask.g and opens a
# session per request, so threads share nothing. A buffering proxy (deploy/nginx.conf) still
# belongs in front: it takes slow bodies off gunicorn entirely. BENCHMARKS.md has the cost.
worker_class = "gthread"
threads = int(os.environ.get("PROC_THREADS", "32"))
# SIGTERM: stop accepting, let in-flight requests finish for up to this long, then exit.
graceful_timeout = int(os.environ.get("PROC_GRACEFUL_TIMEOUT", "20"))
wsgi_app = "wsgi:app"
# The app logs every request as a JSON line with its request id; no second access log.
accesslog = None
errorlog = "-"
# Contract §1: BK_User, HTTP_BLUEKING_LANGUAGE and HTTP_BLUEKING_SUPPLIER_ID carry
# underscores, which gunicorn drops by default. "dangerous" maps them like dashes, which is
# exactly the equivalence the contract defines (BK_User == BK-User). The headers access control
# reads (Authorization, HTTP_BLUEKING_SUPPLIER_ID) are read the same way in every check, so
# the two spellings cannot disagree; a client's SCRIPT_NAME header does reach the environ, but
# routing and the token check both use PATH_INFO (a proxy in front should drop it anyway).
header_map = "dangerous"
# gunicorn's own ceiling (its default is 4094): a module name of 256 four-byte characters is
# about 3 KB percent-encoded, and a longer line would get gunicorn's HTML 414, not the envelope.
limit_request_line = 8190

# Every worker writes its metrics here and /metrics adds them up (prometheus_client's
# multiprocess mode); set before any worker imports prometheus_client.
_OWN_METRICS_DIR = None
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _OWN_METRICS_DIR = tempfile.mkdtemp(prefix="proc-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _OWN_METRICS_DIR


def on_starting(server):
    """Check the tokens file and migrate once, in the master, before any worker serves
    (PROC_MIGRATE_ON_START=0 skips the migration)."""
    from proc_service.config import ConfigError, time_zone

    try:  # a bad PROC_TIME_ZONE stops the server here, clearly
        time_zone()
    except ConfigError as exc:
        server.log.error("not starting: %s", exc)
        on_exit(server)
        sys.exit(1)
    tokens_file = os.environ.get("PROC_API_TOKENS_FILE")
    if tokens_file is not None:  # a malformed (or empty) one stops the server here, clearly
        from proc_service.web.auth import TokensFileError, load_tokens

        try:
            load_tokens(tokens_file)
        except TokensFileError as exc:
            server.log.error("not starting: %s", exc)
            on_exit(server)  # gunicorn does not call it when start-up fails
            sys.exit(1)
    if os.environ.get("PROC_MIGRATE_ON_START", "1") != "0":  # what `flask migrate` does
        from proc_service.cli import migrate
        from proc_service.config import database_url

        migrate(database_url())


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the metrics directory this configuration made (not one the operator set)."""
    if _OWN_METRICS_DIR:
        shutil.rmtree(_OWN_METRICS_DIR, ignore_errors=True)
