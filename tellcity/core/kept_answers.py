"""Answers kept whole by each app process, for the anonymous reads that programs poll (Open311's
services and requests): the same question asked again is answered from the kept bytes after
one indexed statement has shown that nothing they depend on changed, without going through
Flask, its hooks, the session or the rendering. What a 304 does for a client that kept the
answer (tellcity.core.conditional), this does for the clients that did not.

How an answer comes to be kept: a view whose whole answer follows from the request and from
a few versions calls `keep(check, read)` while it answers, `check` naming a registered
function that reads those versions in one statement (`register_check`), `read` what it read in
the transaction the answer was made in. The versions are the ones the ETags are made of
(the city's configuration and public reports, tellcity.reports.versions), which every write
that changes a public answer bumps, in any process.

The same question: the same GET of the same path and query string, for the same Host and
scheme, with the same Accept, Accept-Language and Accept-Encoding headers, in the same hour
(Open311's default list is the last 90 days from the start of the hour). A request that could
be anyone's in particular is never answered from here, nor kept: one with a cookie (a session,
a chosen language), credentials (Authorization, X-Api-Key, an api_key parameter), or a
conditional or range header (the app answers those itself, with a 304 that costs a lookup).
Only a 200 that sets no cookie is kept.

Answered from here, a request still gets its own X-Request-ID, its log line and its count in
the metrics, through the same functions as any other; every other header is the one the app
sent. KEPT_ANSWERS_BYTES bounds what a process keeps (the least recently used go first); 0
keeps nothing.
"""

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask, request

from tellcity.core import metrics, request_log

log = logging.getLogger(__name__)

#: Where a view's `keep` leaves its word for the middleware, in the WSGI environ.
_MARK = "tellcity.kept_answers"
#: The checks, by name: each reads, in one statement, what kept answers depend on.
_CHECKS: dict[str, Callable[..., tuple]] = {}
#: Where the views that may keep their answers are (the start of their paths).
_PATHS: set[str] = set()
#: Requests that are somebody's in particular, or that the app answers itself.
_PERSONAL = (
    "HTTP_COOKIE",
    "HTTP_AUTHORIZATION",
    "HTTP_X_API_KEY",
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_MATCH",
    "HTTP_IF_UNMODIFIED_SINCE",
    "HTTP_RANGE",
)
#: The request's headers an answer may depend on.
_KEY_HEADERS = ("HTTP_HOST", "HTTP_ACCEPT", "HTTP_ACCEPT_LANGUAGE", "HTTP_ACCEPT_ENCODING")


def register_check(name: str, check: Callable[..., tuple], path: str) -> None:
    """`check(connection, *args)` reads what answers kept under `name` depend on, as a tuple
    (`args`: those `keep` was given); the views that keep them answer under `path`."""
    _CHECKS[name] = check
    _PATHS.add(path)


def keep(check: str, read: tuple, *args) -> None:
    """The answer being made may be kept, for as long as the check `check` (given `args`)
    reads `read` again (what it read in this request's transaction, before the answer's
    data)."""
    if check not in _CHECKS:
        raise KeyError(f"no kept-answer check {check!r}")
    rule = request.url_rule.rule if request.url_rule else None
    request.environ[_MARK] = (check, args, read, request.endpoint, rule)


@dataclass(slots=True)
class _Kept:
    check: str
    args: tuple
    read: tuple
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    endpoint: str | None
    rule: str | None


class KeptAnswers:
    """The WSGI middleware, around the Flask app's own WSGI callable (inside ProxyFix, so
    that it sees the client's scheme and address as the app does)."""

    def __init__(self, app: Flask, wsgi_app: Callable) -> None:
        self.app, self.wsgi_app, self.config = app, wsgi_app, app.config
        self.kept: OrderedDict[tuple, _Kept] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()
        self._engine: sa.Engine | None = None
        self._held = threading.local()
        self._all: list[sa.Connection] = []

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        key = self._key(environ)
        if key is None:
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        with self.lock:
            kept = self.kept.get(key)
            if kept is not None:
                self.kept.move_to_end(key)
        if kept is not None and self._still_true(kept):
            return self._replay(kept, environ, start_response, started)
        return self._answer(key, environ, start_response)

    def _key(self, environ: dict) -> tuple | None:
        if not self.config["KEPT_ANSWERS_BYTES"] or environ.get("REQUEST_METHOD") != "GET":
            return None
        path = environ.get("PATH_INFO", "")
        if not path.startswith(tuple(_PATHS)):
            return None
        query = environ.get("QUERY_STRING", "")
        if any(environ.get(name) for name in _PERSONAL) or "api_key" in query:
            return None
        headers = tuple(environ.get(name, "") for name in _KEY_HEADERS)
        hour = int(time.time() // 3600)
        server = (environ.get("wsgi.url_scheme"), environ.get("SERVER_NAME"))
        return (path, query, environ.get("SCRIPT_NAME", ""), *server, *headers, hour)

    def _still_true(self, kept: _Kept) -> bool:
        try:
            return _CHECKS[kept.check](self._connection(), *kept.args) == kept.read
        except sa.exc.SQLAlchemyError:  # the app answers, as it answers a database gone away
            log.warning("kept answers: the check %s failed", kept.check, exc_info=True)
            failed = self._held.__dict__.pop("connection", None)
            if failed is not None:
                with self.lock:
                    self._all = [held for held in self._all if held is not failed]
                _close_for_good(failed)
            return False

    def _connection(self) -> sa.Connection:
        """The connection each thread keeps for the checks, in autocommit: a check is one
        statement, which sees what was committed before it, and needs no transaction (on
        PostgreSQL one round trip, where a pooled connection's would take three)."""
        connection = getattr(self._held, "connection", None)
        if connection is None or connection.invalidated or connection.closed:
            if self._engine is None:
                with self.app.app_context():
                    from tellcity.extensions import db

                    self._engine = db.engine
                sa.event.listen(self._engine, "engine_disposed", self._close)
            connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            self._held.connection = connection
            with self.lock:
                self._all.append(connection)
        return connection

    def _close(self, _engine=None) -> None:
        """Close the connections held for the checks (the engine is disposed of: tests, a
        forked process), in whichever thread holds them; each is connected again when needed."""
        with self.lock:
            held, self._all = self._all, []
        for connection in held:
            _close_for_good(connection)

    def _replay(self, kept: _Kept, environ: dict, start_response, started: float):
        given = environ.get("HTTP_X_REQUEST_ID", "")
        trusted = bool(self.config["TRUSTED_PROXIES"])
        request_id = request_log.request_id_for(given, trusted=trusted)
        start_response(kept.status, [*kept.headers, (request_log.HEADER, request_id)])
        seconds = time.perf_counter() - started
        status = int(kept.status[:3])
        metrics.count_request(kept.endpoint, "GET", status, seconds)
        if self.config["LOG_FORMAT"] == "json":
            request_log.write_line(request_id, "GET", kept.endpoint, kept.rule, status, seconds)
        return [kept.body]

    def _answer(self, key: tuple, environ: dict, start_response):
        """The app's answer, kept when its view said it may be."""
        answered: list = []
        written: list[bytes] = []

        def capture(status, headers, exc_info=None):
            answered[:] = [status, headers, exc_info]
            return written.append

        body = self.wsgi_app(environ, capture)
        status, headers, exc_info = answered
        mark = environ.get(_MARK)
        keepable = (
            mark is not None
            and status.startswith("200 ")
            and not any(name.lower() == "set-cookie" for name, _value in headers)
        )
        if not keepable:
            start_response(status, headers, exc_info)
            return [*written, *body] if written else body
        try:
            content = b"".join([*written, *body])
        finally:
            if hasattr(body, "close"):
                body.close()
        start_response(status, headers)
        check, args, read, endpoint, rule = mark
        own = [(name, value) for name, value in headers if name != request_log.HEADER]
        self._store(key, _Kept(check, args, read, status, own, content, endpoint, rule))
        return [content]

    def _store(self, key: tuple, kept: _Kept) -> None:
        size, budget = _size(kept), int(self.config["KEPT_ANSWERS_BYTES"])
        if size > budget // 8:  # one answer never pushes out most of the others
            return
        with self.lock:
            old = self.kept.pop(key, None)
            if old is not None:
                self.size -= _size(old)
            self.kept[key] = kept
            self.size += size
            while self.size > budget:
                _key, oldest = self.kept.popitem(last=False)
                self.size -= _size(oldest)


def _close_for_good(connection: sa.Connection) -> None:
    """Not back to the pool, which may be gone: closed."""
    try:
        connection.invalidate()
        connection.close()
    except sa.exc.SQLAlchemyError:
        log.warning("kept answers: a check's connection would not close", exc_info=True)


def _size(kept: _Kept) -> int:
    return len(kept.body) + sum(len(name) + len(value) for name, value in kept.headers)


def init_app(app: Flask) -> None:
    """Answer the kept answers' questions before the app does."""
    app.wsgi_app = KeptAnswers(app, app.wsgi_app)
    app.extensions["kept_answers"] = app.wsgi_app
