"""Readiness: whether this app server can take requests, for a load balancer or Kubernetes to
stop sending it any while it cannot. /healthz asks the database alone; /readyz asks every
service the app depends on: the database; Redis, when the rate limits count there
(RATELIMIT_STORAGE_URI); the object store, when the photos are kept in one (PHOTO_STORAGE).

Each check answers "ok" or "unavailable": why one failed (a host, a port, a user name) goes to
the log, never into the answer, which anyone may read.
"""

import logging
from collections.abc import Callable

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from tellcity.core.queries import ping_database
from tellcity.extensions import db, limiter

log = logging.getLogger(__name__)

#: Rate-limit stores that live in this process: nothing to ask.
LOCAL_STORAGE = ("process://", "memory://")


def check_services() -> dict[str, str]:
    """Whether each service configured answers ("ok" or "unavailable"), by name (database, redis,
    object_store)."""
    return {name: _outcome(name, check) for name, check in _checks().items()}


def _checks() -> dict[str, Callable[[], object]]:
    checks: dict[str, Callable[[], object]] = {"database": _database}
    if not current_app.config["RATELIMIT_STORAGE_URI"].startswith(LOCAL_STORAGE):
        checks["redis"] = _rate_limit_storage
    if current_app.config.get("PHOTO_STORAGE"):
        checks["object_store"] = _object_store
    return checks


def _outcome(name: str, check: Callable[[], object]) -> str:
    try:
        if check() is False:
            raise ConnectionError("it did not answer")  # limits' check() keeps the error
    except Exception as error:
        log.error("Readiness: %s is unavailable: %s", name, getattr(error, "orig", error))
        return "unavailable"
    return "ok"


def _database() -> None:
    try:
        ping_database()
    except SQLAlchemyError:
        db.session.rollback()
        raise


def _rate_limit_storage() -> bool:
    return limiter.storage.check()


def _object_store() -> None:
    """One listing of an empty prefix of the photos' bucket (tellcity.photos.storage): cheap,
    and it fails when the store is unreachable, refuses the keys or has no such bucket."""
    from tellcity.photos.storage import store

    next(store().listing("readyz/"), None)
