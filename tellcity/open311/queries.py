"""Reads for Open311: jurisdictions, services, service requests and their public updates.
Hidden and rejected reports never come out of here (tellcity.reports.queries.is_public)."""

import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from tellcity.categories.models import Category
from tellcity.cities.models import City
from tellcity.cities.queries import kept_city
from tellcity.core.caches import caches
from tellcity.core.db import constants
from tellcity.core.kept_answers import register_check
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.reports.history import note_of
from tellcity.reports.models import Photo, PublicVersion, Report, ReportEvent
from tellcity.reports.queries import is_public, public_event_filter
from tellcity.reports.states import OPEN_STATUSES, STATUS_EVENTS, Status

_OPEN = [str(status) for status in OPEN_STATUSES]

#: The columns of a category the services list shows, in a fixed order (for its digest).
SERVICE_COLUMNS = (
    Category.id,
    Category.code,
    Category.kind,
    Category.name_fr,
    Category.name_en,
    Category.description_fr,
    Category.description_en,
    Category.group_fr,
    Category.group_en,
    Category.keywords,
    Category.attributes,
)


#: Cities' ids with the versions of their configuration and public reports.
_VERSIONS = sa.select(
    City.__table__.c.id,
    City.__table__.c.config_version,
    sa.func.coalesce(PublicVersion.__table__.c.version, 0),
).outerjoin(PublicVersion.__table__, PublicVersion.__table__.c.city_id == City.__table__.c.id)
#: Up to two cities served here, with their versions: built once (it runs on most Open311
#: requests).
_SERVED = (
    _VERSIONS.where(City.__table__.c.is_imported.is_(False)).order_by(City.__table__.c.id).limit(2)
)
#: A city by its slug, with its versions.
_NAMED = _VERSIONS.where(City.__table__.c.slug == sa.bindparam("slug"))


def served_cities() -> tuple[list[tuple[City, int]], tuple]:
    """Up to two of the cities configured here, imports of other cities' 311 data left out,
    each with the version of its public reports (tellcity.reports.versions): when there is
    exactly one, Open311 requests need not name it. And what was read (served_versions), for
    the answers kept on it. One statement reads their ids and versions; the cities are the
    copies this process keeps (tellcity.cities.queries kept_city), not rows loaded again with
    their boundaries on every request."""
    read = served_versions(db.session.connection())
    return [(kept_city(city_id, config), public) for city_id, config, public in read], read


def served_versions(connection: sa.Connection) -> tuple:
    """The served cities' ids with the versions of their configuration and public reports:
    what every answer about them that names no city follows from, besides the question."""
    return tuple(tuple(row) for row in connection.execute(_SERVED))


def served_configurations(connection: sa.Connection) -> tuple:
    """The served cities' ids with the versions of their configuration: what their services
    follow from."""
    return configurations(served_versions(connection))


def configurations(read: tuple) -> tuple:
    """The versions of the cities' configuration alone, of what served_versions read."""
    return tuple(row[:2] for row in read)


def named_versions(connection: sa.Connection, slug: str) -> tuple:
    """The city `slug` names (a jurisdiction_id), as served_versions reads the served ones;
    empty if there is none."""
    return tuple(tuple(row) for row in connection.execute(_NAMED, {"slug": slug}))


def named_configuration(connection: sa.Connection, slug: str) -> tuple:
    return configurations(named_versions(connection, slug))


def named_city_versions(slug: str) -> tuple:
    """named_versions, in the request's transaction."""
    return named_versions(db.session.connection(), slug)


#: The answers kept whole (tellcity.core.kept_answers): of the requests that name no city, and
#: of those that name one.
register_check("open311.requests", served_versions, "/open311/v2/")
register_check("open311.services", served_configurations, "/open311/v2/")
register_check("open311.named.requests", named_versions, "/open311/v2/")
register_check("open311.named.services", named_configuration, "/open311/v2/")


def changeset() -> datetime | None:
    """When the services last changed, as far as can be told: the newest category (edits
    leave no trace, Category having no updated_at)."""
    return db.session.scalar(sa.select(sa.func.max(Category.created_at)))


def service_rows(city: City) -> tuple[str, Sequence[sa.Row]]:
    """The city's active categories as plain rows (SERVICE_COLUMNS), problems first in the
    form's order, and a digest of everything in them: the same digest means the same list,
    whichever process changed a category and however (Category has no updated_at). Kept with
    the city's configuration (tellcity.core.caches), read again when it changes."""
    session = db.session()
    return caches(session).get(
        session, "open311_services", city.id, city.config_version, lambda _kept: _services(city)
    )


def _services(city: City) -> tuple[str, tuple[sa.Row, ...]]:
    rows = db.session.execute(
        sa.select(*SERVICE_COLUMNS)
        .where(Category.city_id == city.id, Category.is_active)
        .order_by(Category.kind, Category.position, Category.id)
    ).all()
    payload = json.dumps([list(row) for row in rows], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest(), tuple(rows)


def service(city: City, code: str) -> Category | None:
    """The active category of the city whose Open311 service_code is `code`."""
    return db.session.scalar(
        sa.select(Category).where(
            Category.city_id == city.id, Category.code == code, Category.is_active
        )
    )


@dataclass(frozen=True)
class RequestFilter:
    """What GET requests asks for. `references`, when given, overrides every other field."""

    start: datetime | None = None
    end: datetime | None = None
    references: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    statuses: frozenset[str] = frozenset()
    page: int = 1
    page_size: int = 1000
    #: west, south, east, north: requests with a position inside.
    box: tuple[float, float, float, float] | None = None


class RequestRow(NamedTuple):
    """What an Open311 service request shows of a public report, read as plain columns: a
    page holds a thousand of them (a tuple: made a hundred times a page, cheaply)."""

    id: int
    reference: str
    status: str
    description: str
    address: str
    lat: float | None
    lon: float | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    due_at: datetime | None
    support_count: int
    service_code: str
    name_fr: str
    name_en: str
    #: Who handles it: the outside body it was referred to, or its department.
    agency: str
    #: The storage key of its first visible photo.
    photo_key: str | None
    #: The public text of the move that gave it its current status, when that move came with
    #: one (or the system's note, in the request's language); "" otherwise.
    status_note: str


def _request_row(row: sa.Row) -> RequestRow:
    """A row of _request_rows(): its columns, the status note said from the last three (the
    event's data is read as it is stored, and decoded only when the note is the system's)."""
    *columns, text, type_, data = row
    if text or type_ is None:
        return RequestRow(*columns, text or "")
    if isinstance(data, str):  # SQLite's JSON as text (PostgreSQL's driver decodes it)
        data = json.loads(data)
    return RequestRow(*columns, note_of(type_, data))


@functools.cache
def _request_rows() -> sa.Select:
    """The columns of a RequestRow and its status note's event, built once (a Select is
    immutable: each query adds its own conditions to a copy). One statement: the status note
    is the last public status move of each report (`|| ''` keeps SQLite, which has no
    statistics, on the report_id index, not on (type, ...)), joined by a correlated lookup."""
    referred = sa.orm.aliased(Department)
    first_photo = (
        sa.select(Photo.storage_key)
        .where(Photo.report_id == Report.id, Photo.is_hidden.is_(False))
        .order_by(Photo.id)
        .limit(1)
        .scalar_subquery()
    )
    agency = sa.case(
        (sa.and_(Report.status == Status.REFERRED, referred.id.is_not(None)), referred.name),
        else_=Department.name,
    )
    note = sa.orm.aliased(ReportEvent)
    last_move = (
        sa.select(ReportEvent.id)
        .where(
            ReportEvent.report_id == Report.id,
            ReportEvent.type.concat("").in_(constants(STATUS_EVENTS)),
            public_event_filter(),
        )
        .order_by(ReportEvent.id.desc())
        .limit(1)
        .correlate(Report)
        .scalar_subquery()
    )
    return (
        sa.select(
            Report.id,
            Report.reference,
            Report.status,
            Report.description,
            Report.address,
            Report.lat,
            Report.lon,
            Report.created_at,
            Report.updated_at,
            Report.closed_at,
            Report.due_at,
            Report.support_count,
            Category.code,
            Category.name_fr,
            Category.name_en,
            agency,
            first_photo,
            note.text,
            note.type,
            sa.type_coerce(note.data, sa.Text),
        )
        .join(Category, Category.id == Report.category_id)
        .join(Department, Department.id == Report.department_id)
        .outerjoin(referred, referred.id == Report.referred_to_id)
        .outerjoin(note, note.id == last_move)
    )


def find_requests(city: City, wanted: RequestFilter) -> list[RequestRow]:
    """Public reports of the city matching `wanted`, newest first; by reference, in the order
    asked. The date range bounds the scan on the created_at index; LIMIT bounds the answer.
    A search's statement is built once for each combination of the terms it uses, the values
    bound when it runs."""
    connection = db.session.connection()
    if wanted.references:
        query = _request_rows().where(
            _in_city(city), is_public(), Report.reference.in_(wanted.references)
        )
        found = [_request_row(row) for row in connection.execute(query).all()]
        order = {reference: n for n, reference in enumerate(wanted.references)}
        found.sort(key=lambda row: order[row.reference])
        return found
    statuses = "".join(sorted(wanted.statuses)) if wanted.statuses in _ONE_SIDE else ""
    query = _search(
        connection.dialect.name,
        wanted.end is not None,
        bool(wanted.codes),
        statuses,
        wanted.box is not None,
    )
    values = {
        "city_id": city.id,
        "start": wanted.start,
        "end": wanted.end,
        "codes": list(wanted.codes),
        "limit": wanted.page_size,
        "offset": (wanted.page - 1) * wanted.page_size,
    }
    if wanted.box is not None:
        values.update(zip(("west", "south", "east", "north"), wanted.box, strict=True))
    return [_request_row(row) for row in connection.execute(query, values).all()]


#: The status filters that narrow a search (both, or none, is every status).
_ONE_SIDE = (frozenset({"open"}), frozenset({"closed"}))


def extended(rows: Sequence[RequestRow]) -> dict[int, Report]:
    """The reports of `rows` with their zone, photos and history, for the extended
    attributes: by id."""
    if not rows:
        return {}
    reports = db.session.scalars(
        sa.select(Report)
        .where(Report.id.in_([row.id for row in rows]))
        .options(joinedload(Report.zone), selectinload(Report.photos), selectinload(Report.events))
    )
    return {report.id: report for report in reports}


def _in_city(city: City):
    """Reports of the city: with the date range, ix_reports_city_id_created_at serves it."""
    return Report.city_id == city.id


@functools.cache
def _search(dialect: str, end: bool, codes: bool, statuses: str, box: bool) -> sa.Select:
    """The statement of a search with these terms, on this database (`dialect`): the date
    range (from `start`, up to `end` when given), the service codes, the statuses ("open",
    "closed" or "" for all), the bounding box, and the page (`limit`, `offset`); the values
    are bound when it runs.

    The page's ids are found first, by the reports' own columns, and only they are joined to
    their category, department, photo and status note: PostgreSQL otherwise joined every
    report matching the terms (over a thousand for potholes still open) before sorting them.

    Every search has a date range of at most 90 days, so ix_reports_city_id_created_at bounds
    its reading. On SQLite, which keeps no statistics, the other terms are written so that no
    index can serve them (`category_id + 0`, `status || ''`, `lat + 0`): it would otherwise
    prefer an index on the equality — category_id or (status, due_at) — or on the position,
    and read every report of the category, the status or the latitudes (hundreds of
    thousands) to sort them. PostgreSQL chooses by its statistics, which those disguises
    would hide from it (it then expected a dozen potholes and read all 107,000 reports of
    the range), so it is given the terms as they are."""
    plain = dialect != "sqlite"
    page = sa.select(Report.id).where(
        Report.city_id == sa.bindparam("city_id"),
        is_public(),
        Report.created_at >= sa.bindparam("start"),
    )
    if end:
        page = page.where(Report.created_at <= sa.bindparam("end"))
    if codes:
        categories = sa.select(Category.id).where(
            Category.city_id == sa.bindparam("city_id"),
            Category.code.in_(sa.bindparam("codes", expanding=True)),
        )
        category = Report.category_id if plain else Report.category_id + 0
        page = page.where(category.in_(categories.scalar_subquery()))
    status = Report.status if plain else Report.status.concat("")
    if statuses == "open":
        page = page.where(status.in_(_OPEN))
    elif statuses == "closed":
        page = page.where(status.not_in(_OPEN))
    if box:
        # On PostgreSQL the box's values are written into the statement: with them bound, the
        # driver's prepared statement soon gets a generic plan, which knows nothing of the box
        # and read the (lat, lon) index for 2 s.
        south, north, west, east = (
            sa.bindparam(name, literal_execute=plain) for name in ("south", "north", "west", "east")
        )
        lat, lon = (Report.lat, Report.lon) if plain else (Report.lat + 0, Report.lon + 0)
        page = page.where(lat.between(south, north), lon.between(west, east))
    newest_first = (Report.created_at.desc(), Report.id.desc())
    page = (
        page.order_by(*newest_first)
        .limit(sa.bindparam("limit"))
        .offset(sa.bindparam("offset"))
        .subquery("page")
    )
    return _request_rows().join(page, page.c.id == Report.id).order_by(*newest_first)


def public_report(city: City, reference: str) -> RequestRow | None:
    """One public report of the city, by its reference (service_request_id or token)."""
    connection = db.session.connection()
    row = connection.execute(_by_reference(), {"city_id": city.id, "reference": reference}).first()
    return _request_row(row) if row is not None else None


@functools.cache
def _by_reference() -> sa.Select:
    """public_report's statement, built once (building it cost more than running it)."""
    return _request_rows().where(
        Report.city_id == sa.bindparam("city_id"),
        is_public(),
        Report.reference == sa.bindparam("reference"),
    )


@dataclass(frozen=True)
class Update:
    """A public event of a public report, with the report's status once it happened and the
    photo it added, if any (mySociety's servicerequestupdates)."""

    event: ReportEvent
    reference: str
    status: str
    photo_key: str | None = None


def public_updates(
    city: City, start: datetime, end: datetime, page: int = 1, page_size: int = 1000
) -> list[Update]:
    """The events of the public timelines (tellcity.reports.queries.public_events) of the
    city's public reports made between `start` and `end` (inclusive), oldest first."""
    rows = db.session.execute(
        sa.select(ReportEvent, Report.reference)
        .join(Report, Report.id == ReportEvent.report_id)
        .where(
            Report.city_id == city.id,
            is_public(),
            public_event_filter(),
            ReportEvent.created_at >= start,
            ReportEvent.created_at <= end,
        )
        .order_by(ReportEvent.created_at, ReportEvent.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    events = [event for event, _reference in rows]
    statuses = _statuses_at(events)
    photos = _event_photos(events)
    return [
        Update(event, reference, statuses[event.id], photos.get(event.id))
        for event, reference in rows
    ]


def _statuses_at(events: Sequence[ReportEvent]) -> dict[int, str]:
    """The status each event's report had just after the event: the target of the last status
    move up to it, or new."""
    if not events:
        return {}
    moves: dict[int, list[tuple[int, str]]] = {}
    rows = db.session.execute(
        sa.select(ReportEvent.report_id, ReportEvent.id, ReportEvent.to_value)
        .where(
            ReportEvent.report_id.in_({event.report_id for event in events}),
            ReportEvent.type.in_([str(t) for t in STATUS_EVENTS]),
            ReportEvent.id <= max(event.id for event in events),
        )
        .order_by(ReportEvent.id)
    )
    for report_id, event_id, to_value in rows:
        moves.setdefault(report_id, []).append((event_id, to_value))
    statuses = {}
    for event in events:
        before = [to for event_id, to in moves.get(event.report_id, []) if event_id <= event.id]
        statuses[event.id] = before[-1] if before else Status.NEW
    return statuses


def _event_photos(events: Sequence[ReportEvent]) -> dict[int, str]:
    """The storage key of the first visible photo each event added."""
    if not events:
        return {}
    rows = db.session.execute(
        sa.select(Photo.event_id, Photo.storage_key)
        .where(Photo.event_id.in_([event.id for event in events]), Photo.is_hidden.is_(False))
        .order_by(Photo.id.desc())
    )
    return {event_id: key for event_id, key in rows}  # the first photo is written last
