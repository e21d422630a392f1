"""What each process keeps of a city's configuration, in one registry held by the app, and the
one hook that makes every process's copies stale.

A city's configuration (the city row, its zones, categories, departments and routing rules) is
read by nearly every request and changed by an administrator now and then. What a process
builds from it is kept in the app's `CityCaches` (`app.extensions["tellcity.caches"]`;
`caches(session)` finds the one of the app a session works for): its copy of the city row
(tellcity.cities.queries), the zones' prepared shapes (tellcity.geo.places) and the rows a
submission is routed by (tellcity.routing.configuration). The contract:

- **Kept per city, checked against its version.** An entry is kept per kind and city with the
  city's `config_version` it was built from. A lookup is a dict lookup and a comparison with
  the version of the city row the request read: after a change, the first request builds the
  entry again, which replaces the old one (one entry per kind and city: nothing to sweep).
- **One invalidation hook.** The version lives in the database: `invalidate(session, city)`
  bumps it in the transaction that changes the configuration, so every process, whichever
  made the change, sees the new version with the city row once that transaction commits;
  nothing is sent between processes. The session hook of tellcity.cities.versions calls it for
  every change the ORM flushes; call it yourself for a change made without the ORM's unit of
  work (a bulk UPDATE, raw SQL).
- **An uncommitted change is never kept.** A session that changed the configuration keeps
  nothing and reads nothing kept until it commits or rolls back (`is_changed`): it builds what
  it needs from its own transaction, so nothing is kept under a version that another
  transaction could also reach.
- **Shared, so never changed.** An entry serves every request of the process, threads
  included: immutable values, or rows detached from any session, which a request puts in its
  own session with `merge(load=False)`.
- **One registry per app.** Two apps in one process (the tests) never share an entry.
"""

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

#: app.extensions key of the app's registry.
KEY = "tellcity.caches"
#: session.info key: this session changed a city's configuration and has not committed yet.
_CHANGED = "tellcity.config_changed"

T = TypeVar("T")


class CityCaches:
    """What a process keeps of its cities' configuration (see the module's contract)."""

    def __init__(self) -> None:
        #: (kind, city id) -> (the city's config_version, the value built from it)
        self._entries: dict[tuple[str, int], tuple[int, object]] = {}

    def get(
        self,
        session: Session,
        kind: str,
        city_id: int,
        version: int,
        build: Callable[[bool], T],
    ) -> T:
        """The `kind` entry of the city at `version`, kept or built now by `build(is_kept)`.
        With is_kept True, what it builds is shared by every request of the process (see the
        contract); False (the session changed the configuration), it is for this session only.
        """
        if _CHANGED in session.info:
            return build(False)
        entry = self._entries.get((kind, city_id))
        if entry is not None and entry[0] == version:
            return entry[1]
        value = build(True)
        if _CHANGED not in session.info:  # else building flushed a change: not for keeping
            self._entries[kind, city_id] = (version, value)
        return value

    def clear(self) -> None:
        """Forget every entry (each is built again when next asked for)."""
        self._entries.clear()


def init_app(app: Flask) -> None:
    """Give `app` its registry."""
    app.extensions[KEY] = CityCaches()


def caches(session: Session) -> CityCaches:
    """The registry of the app `session` works for: the current app's, looked up once per
    session (through the app's proxy, which costs more than a hit) and then kept in it."""
    registry = session.info.get(KEY)
    if registry is None:
        registry = session.info[KEY] = current_app.extensions[KEY]
    return registry


def invalidate(session: Session, city) -> None:
    """The one invalidation hook: `session` is changing the configuration of `city` (a City),
    whose version is bumped in the same transaction: what every process keeps of the city is
    stale once it commits. Until the session commits or rolls back, it keeps nothing."""
    session.info[_CHANGED] = True
    if city is not None and city not in session.new and city not in session.deleted:
        city.config_version = type(city).config_version + 1


def is_changed(session: Session) -> bool:
    """Whether `session` changed a city's configuration that it has not committed yet."""
    return _CHANGED in session.info


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_changes(session: Session) -> None:
    session.info.pop(_CHANGED, None)
