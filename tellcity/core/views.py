"""The health check."""

import sqlalchemy as sa
from flask import Blueprint, jsonify
from sqlalchemy.exc import SQLAlchemyError

from tellcity.extensions import db

bp = Blueprint("core", __name__)


@bp.get("/healthz")
def healthz():
    """200 when the app can read its database, 503 with the reason when it cannot."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except SQLAlchemyError as exc:
        db.session.rollback()
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
        body = {"status": "error", "database": f"unreachable: {reason}"}
        return _no_store(jsonify(body)), 503
    return _no_store(jsonify(status="ok", database="ok"))


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response
