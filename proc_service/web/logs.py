"""JSON-line logs on stdout, each with the request id."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

import orjson

from .. import context


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": context.request_id(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        # orjson (issue 18): a line per request; default=str for what it cannot encode itself
        return orjson.dumps(line, default=str).decode()


def configure(level: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("proc_service")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
