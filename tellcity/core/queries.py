"""Reads that belong to no feature: whether the database answers."""

import sqlalchemy as sa

from tellcity.extensions import db


def ping_database() -> None:
    """Ask the database itself for `SELECT 1` (no cached answer). Raises SQLAlchemyError when it
    cannot answer; the caller's transaction is then to be rolled back."""
    db.session.execute(sa.text("SELECT 1"))
