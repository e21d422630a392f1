"""The health and readiness checks."""

import logging

from flask import Blueprint, jsonify
from sqlalchemy.exc import SQLAlchemyError

from tellcity.core.queries import ping_database
from tellcity.core.readiness import check_services

bp = Blueprint("core", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    """200 when the app can read its database, 503 when it cannot: it asks the database every
    time. Anyone may ask, so the driver's error (the server's host and port, a user name) goes
    to the log, not into the answer. The 503 answer rolls the failed transaction back (the app
    does)."""
    try:
        ping_database()
    except SQLAlchemyError as exc:
        log.error("Health check: the database is unavailable: %s", getattr(exc, "orig", exc))
        body = {"status": "error", "database": "unavailable"}
        return _no_store(jsonify(body)), 503
    return _no_store(jsonify(status="ok", database="ok"))


@bp.get("/readyz")
def readyz():
    """200 when every service the app depends on answers, 503 naming those that do not (see
    tellcity.core.readiness): {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}."""
    checks = check_services()
    ready = all(outcome == "ok" for outcome in checks.values())
    body = {"status": "ok" if ready else "error", "checks": checks}
    return _no_store(jsonify(body)), 200 if ready else 503


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response
