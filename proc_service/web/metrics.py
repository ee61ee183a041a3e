"""Prometheus metrics. Under gunicorn with several workers, PROMETHEUS_MULTIPROC_DIR (set by
gunicorn.conf.py) makes /metrics add up every worker's numbers."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

REQUESTS = Counter(
    "proc_service_requests_total", "HTTP requests answered", ["method", "endpoint", "status"]
)
LATENCY = Histogram(
    "proc_service_request_duration_seconds", "Time to answer a request", ["method", "endpoint"]
)


class EventFigures:
    """§15's delivery figures, read from the database at scrape time: they are the state that
    every dispatcher shares, not any one process's counters."""

    def __init__(self, read: Callable[[], tuple[int, list[dict]]]):
        self.read = read

    def collect(self):
        try:
            newest, figures = self.read()
        except SQLAlchemyError:  # the database is away: the request metrics still answer
            log.warning("event figures unavailable: database error")
            return
        yield CounterMetricFamily(
            "proc_service_events_written",
            "Events written (the newest event id; a rolled-back write on PostgreSQL leaves an"
            " unused id, so this may run ahead by those)",
            value=newest,
        )
        labels = ["subscription", "account"]
        families = {
            "delivered": CounterMetricFamily(
                "proc_service_events_delivered", "Events confirmed by the subscriber", labels=labels
            ),
            "failed": CounterMetricFamily(
                "proc_service_events_failed", "Delivery attempts that failed", labels=labels
            ),
            "dropped": CounterMetricFamily(
                "proc_service_events_dropped",
                "Events the retention removed before the subscriber had them",
                labels=labels,
            ),
            "waiting": GaugeMetricFamily(
                "proc_service_events_waiting", "Events waiting for delivery", labels=labels
            ),
            "oldest": GaugeMetricFamily(
                "proc_service_events_oldest_waiting_seconds",
                "Age of the oldest event waiting for delivery (0: none)",
                labels=labels,
            ),
        }
        for figure in figures:
            for key, family in families.items():
                family.add_metric([figure["subscription"], figure["account"]], figure[key])
        yield from families.values()


def exposition(events: Callable[[], tuple[int, list[dict]]] | None = None) -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    body = generate_latest(registry)
    if events is not None:  # its own families, after the requests'
        figures = CollectorRegistry()
        figures.register(EventFigures(events))
        body += generate_latest(figures)
    return body, CONTENT_TYPE_LATEST
