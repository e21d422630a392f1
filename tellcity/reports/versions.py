"""The version of a city's public reports: a number that changes, in the same transaction, with
every change an answer about the city's reports could show (a new report, a status change, a
reply, a moderation, a photo, an address filled in, an import). Answers that clients poll
(Open311's requests, a single request, the public map's markers) are validated by it before
anything is read or written, so that a client sending back its ETag is answered 304 at the
cost of one primary-key lookup (tellcity.core.conditional).

One session hook sees every report, event, photo and supporter that the ORM flushes; a
statement that writes without the ORM's unit of work (a submission's INSERTs, an import's bulk
rows, a bulk UPDATE) calls `bump` itself. A version is bumped once per city and transaction:
the number then differs from any other transaction's once it commits. Staff-only changes (an
internal note, an assignment) bump it too: a client then reads an unchanged answer again,
never a stale one.

The version is read first and the answer after it: a change committed in between makes the
answer newer than its ETag, never older, so a client can be sent an answer twice but never
kept on an old one."""

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from tellcity.core.db import counter_upsert
from tellcity.extensions import db
from tellcity.reports.models import Photo, PublicVersion, Report, ReportEvent, Support

#: session.info key: the cities whose version this transaction has bumped.
_BUMPED = "tellcity.public_versions_bumped"
#: The rows whose changes public answers can show, all but Report tied to a report.
_OF_A_REPORT = (ReportEvent, Photo, Support)

_VERSION = sa.select(PublicVersion.__table__.c.version).where(
    PublicVersion.__table__.c.city_id == sa.bindparam("city_id")
)
_CITY_OF = sa.select(Report.__table__.c.city_id).where(
    Report.__table__.c.id == sa.bindparam("report_id")
)


def public_version(city_id: int) -> int:
    """The city's version as this request's transaction sees it (0 before any change)."""
    return db.session.connection().execute(_VERSION, {"city_id": city_id}).scalar() or 0


def bump(session: Session, city_id: int) -> None:
    """Change the city's version in the session's transaction, once per transaction."""
    bumped = session.info.setdefault(_BUMPED, set())
    if city_id in bumped:
        return
    connection = session.connection()
    upsert = counter_upsert(
        connection.dialect.name, PublicVersion.__table__, ("city_id",), "version", returning=False
    )
    connection.execute(upsert, {"city_id": city_id})
    bumped.add(city_id)


@event.listens_for(Session, "before_flush")
def _bump_changed_cities(session: Session, flush_context, instances) -> None:
    """Bump the version of every city whose reports this flush adds to, changes or deletes."""
    cities = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Report):
            if obj in session.dirty and not session.is_modified(obj, include_collections=False):
                continue
            cities.add(obj.city_id if obj.city_id is not None else obj.city.id)
        elif isinstance(obj, _OF_A_REPORT):
            if obj in session.dirty and not session.is_modified(obj, include_collections=False):
                continue
            cities.add(_city_of(session, obj))
    for city_id in cities - {None}:
        bump(session, city_id)


def _city_of(session: Session, obj) -> int | None:
    report = obj.__dict__.get("report")  # loaded already, or given when the row was made
    if report is not None:
        return report.city_id if report.city_id is not None else report.city.id
    if obj.report_id is None:
        return None
    return session.connection().execute(_CITY_OF, {"report_id": obj.report_id}).scalar()


@event.listens_for(Session, "after_transaction_end")
def _forget_bumps(session: Session, transaction) -> None:
    """A transaction (or savepoint) ended: the next one bumps again (at worst once more)."""
    session.info.pop(_BUMPED, None)
