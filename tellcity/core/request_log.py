"""Each request's id, and its log line in JSON for the operator's log collector.

Every request gets an id: the X-Request-ID its proxy or load balancer sent, when the app is
behind one (TRUSTED_PROXIES, as for X-Forwarded-For: without a proxy, the header is the
client's word) and it looks like one (at most 64 letters, digits, and `-_.:`; anything else
could forge log lines), or a new one. The id is sent back in the X-Request-ID header and
written into the outbox messages the request queued (OutboxMessage.request_id), so an email
that went astray leads back to the request that wrote it.

With LOG_FORMAT = "json", each request also writes one line to standard error: the time, the
id, the method, the endpoint and its URL rule (`/track/<token>`, never the path, which can hold
a tracking token, nor the query string, which can hold an email address), the status and the
duration. Nothing of the request's body, headers or sender is logged.
"""

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, Response, current_app, g, has_app_context, request

HEADER = "X-Request-ID"
#: What an incoming request id may look like to be kept.
SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

log = logging.getLogger("tellcity.requests")


def init_app(app: Flask) -> None:
    """Give each request its id and, with LOG_FORMAT = "json", its log line."""
    log_format = app.config["LOG_FORMAT"]
    if log_format not in ("text", "json"):
        raise ValueError(f'LOG_FORMAT must be "text" or "json", not {log_format!r}')
    if log_format == "json":
        _log_lines_to_stderr()
    app.before_request(_start)
    app.after_request(_finish)


def current_request_id() -> str | None:
    """The id of the request being answered; None outside a request (the worker)."""
    return g.get("request_id") if has_app_context() else None


def request_duration() -> float | None:
    """Seconds since the request began, when it is one that began."""
    started = g.get("request_started_at")
    return None if started is None else time.perf_counter() - started


def _start() -> None:
    g.request_started_at = time.perf_counter()
    given = request.headers.get(HEADER, "")
    g.request_id = request_id_for(given, trusted=bool(current_app.config["TRUSTED_PROXIES"]))


def request_id_for(given: str, *, trusted: bool) -> str:
    """The id of a request that came with `given` in its X-Request-ID header (maybe ""), kept
    when a `trusted` proxy sent it and it looks like one."""
    return given if trusted and SANE_ID.fullmatch(given) else uuid.uuid4().hex


def _finish(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id is None:  # a request that failed before it began
        return response
    response.headers[HEADER] = request_id
    if current_app.config["LOG_FORMAT"] == "json":
        rule = request.url_rule.rule if request.url_rule else None
        status, seconds = response.status_code, request_duration() or 0
        write_line(request_id, request.method, request.endpoint, rule, status, seconds)
    return response


def write_line(
    request_id: str,
    method: str,
    endpoint: str | None,
    rule: str | None,
    status: int,
    seconds: float,
) -> None:
    """A request's JSON log line (LOG_FORMAT = "json")."""
    line = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "request_id": request_id,
        "method": method,
        "endpoint": endpoint,
        "rule": rule,
        "status": status,
        "duration_ms": round(seconds * 1000, 2),
    }
    log.info(json.dumps(line))


class _JsonLines(logging.Handler):
    """The request lines, as they are (each message is a JSON object already), to whatever
    standard error is when written."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(record.getMessage() + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


def _log_lines_to_stderr() -> None:
    if not any(isinstance(handler, _JsonLines) for handler in log.handlers):
        log.addHandler(_JsonLines())
    log.setLevel(logging.INFO)
    log.propagate = False  # one line, not a second one through the app's logger
