"""The health check."""

from flask import Blueprint, jsonify
from sqlalchemy.exc import SQLAlchemyError

from tellcity.core.queries import ping_database

bp = Blueprint("core", __name__)


@bp.get("/healthz")
def healthz():
    """200 when the app can read its database, 503 with the reason when it cannot: it asks the
    database every time. The 503 answer rolls the failed transaction back (the app does)."""
    try:
        ping_database()
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
        body = {"status": "error", "database": f"unreachable: {reason}"}
        return _no_store(jsonify(body)), 503
    return _no_store(jsonify(status="ok", database="ok"))


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response
