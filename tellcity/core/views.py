"""The health check."""

import logging

from flask import Blueprint, jsonify
from sqlalchemy.exc import SQLAlchemyError

from tellcity.core.queries import ping_database

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


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response
