"""Prometheus metrics for the operator: what the app servers answer and how fast, what the
worker does, and how deep the outbox is.

The endpoint is GET /metrics, and only for a scraper showing the token of the METRICS_TOKEN
setting (`Authorization: Bearer <token>`); without the setting it answers 404, so the metrics
are never public by default. The worker (`tellcity worker --metrics-port N`) serves its own on
a port of its own, on loopback unless told otherwise.

Requests are counted by endpoint (the route's name, `reports.detail`, never the raw path, which
would make a new series for every report) and status; the outbox figures are read from the
database at scrape time (two queries on the outbox's (status, next_attempt_at) index), so every
app server reports the same.

Several processes: prometheus-client keeps each process's counters in that process. Under
gunicorn with several workers, set PROMETHEUS_MULTIPROC_DIR (an empty folder, emptied at each
start) in the environment of every process: the counters are then written there, and a scrape
of any one process adds up all of them. Without it, each scrape sees the one process that
answered it.
"""

import hmac
import logging
import os

from flask import Flask, Response, abort, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy.exc import SQLAlchemyError

from tellcity.core.request_log import request_duration
from tellcity.extensions import db

log = logging.getLogger(__name__)

#: Latency buckets, in seconds: pages take milliseconds, a submission with photos a second.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

REQUESTS = Counter("tellcity_http_requests", "Requests answered.", ["endpoint", "method", "status"])
REQUEST_SECONDS = Histogram(
    "tellcity_http_request_duration_seconds",
    "Time to answer a request.",
    ["endpoint", "status"],
    buckets=LATENCY_BUCKETS,
)
SUBMISSIONS = Counter("tellcity_submissions", "Reports and ideas filed (every front end).")
WORKER_CYCLE_SECONDS = Histogram(
    "tellcity_worker_cycle_seconds",
    "Time of one delivery pass of the outbox worker.",
    buckets=(*LATENCY_BUCKETS, 30, 60),
)
WORKER_JOB_SECONDS = Histogram(
    "tellcity_worker_job_seconds",
    "Time of one run of a periodic job (job: warm_stats_snapshots, escalate_overdue_tickets...).",
    ["job"],
    buckets=(*LATENCY_BUCKETS, 30, 60, 300),
)
DELIVERIES = Counter(
    "tellcity_outbox_deliveries", "Outbox messages the worker handled, by outcome.", ["outcome"]
)
ESCALATIONS = Counter("tellcity_escalations", "Overdue tickets escalated to their managers.")


def init_app(app: Flask) -> None:
    """Time and count every request (timed from tellcity.core.request_log's start); serve
    /metrics, for the holder of METRICS_TOKEN."""
    app.after_request(_count)
    app.add_url_rule("/metrics", "core.metrics", metrics_view, methods=["GET"])


def _count(response: Response) -> Response:
    duration = request_duration()
    if duration is not None:
        count_request(request.endpoint, request.method, response.status_code, duration)
    return response


def count_request(endpoint: str | None, method: str, status: int, seconds: float) -> None:
    """One request answered, in `seconds`."""
    endpoint = endpoint or "none"  # a 404 matched no route
    REQUESTS.labels(endpoint, method, str(status)).inc()
    REQUEST_SECONDS.labels(endpoint, str(status)).observe(seconds)


def metrics_view() -> Response:
    """The metrics, in Prometheus' text format, for the holder of the token; 404 for anyone
    else, and for everyone when no token is configured (the endpoint does not exist then)."""
    token = current_app.config.get("METRICS_TOKEN") or ""
    given = request.headers.get("Authorization", "")
    if not token or not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        abort(404)
    body = generate_latest(_Scrape(_process_metrics(), OutboxCollector()))
    return Response(body, mimetype=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def _process_metrics():
    """This process's metrics, or every process's through PROMETHEUS_MULTIPROC_DIR."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    return REGISTRY


class _Scrape:
    """Several collectors read as one registry by generate_latest."""

    def __init__(self, *collectors):
        self.collectors = collectors

    def collect(self):
        for collector in self.collectors:
            yield from collector.collect()


class OutboxCollector:
    """The outbox's depth by status and how long its most overdue message has waited, read
    from the database when scraped (in the scrape's request)."""

    def collect(self):
        from tellcity.notify.queries import outbox_depth

        try:
            depth = outbox_depth()
        except SQLAlchemyError as error:
            # The other metrics matter most when the database is down: they are still served.
            db.session.rollback()
            log.error("Metrics: the outbox could not be read: %s", getattr(error, "orig", error))
            return
        counts = GaugeMetricFamily(
            "tellcity_outbox_messages",
            "Outbox messages not sent yet, by status (pending, sending, dead).",
            labels=["status"],
        )
        for status, count in depth.counts.items():
            counts.add_metric([status], count)
        yield counts
        yield GaugeMetricFamily(
            "tellcity_outbox_oldest_pending_seconds",
            "Seconds since the pending message due the longest became due (0: none is due).",
            value=depth.oldest_pending_seconds,
        )
