"""Reading reports for the public: the map, lists, one report, the open reports near a place
("is it the same problem?"), the feeds and the open data. Hidden and rejected reports never
come out of here."""

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from tellcity.categories.models import Category
from tellcity.cities.models import City, Zone
from tellcity.core.db import constants, utcnow
from tellcity.core.i18n import iso_local
from tellcity.core.text import contact_region, public_text
from tellcity.extensions import db
from tellcity.reports.models import Report, ReportEvent, Subscription
from tellcity.reports.states import EventType, Kind, Status, open311_status

EARTH_RADIUS_M = 6_371_000
METRES_PER_DEGREE = 111_320

#: Events a public timeline may show: how the status moved, what the city and the reporter
#: said, the photos added, merges. Never an internal note, a transfer, an assignment...
PUBLIC_EVENT_TYPES = frozenset(
    {
        EventType.STATUS_CHANGE,
        EventType.REOPEN,
        EventType.PUBLIC_REPLY,
        EventType.COMMENT,
        EventType.CONFIRMATION,
        EventType.PHOTO_ADDED,
        EventType.MERGE,
    }
)


def is_public():
    """A filter: reports anyone may see."""
    return sa.and_(Report.is_hidden.is_(False), Report.status != Status.REJECTED)


def public_events(report: Report) -> list[ReportEvent]:
    """The public timeline of `report`, oldest first: the one rule for the report's page, its
    reporter's page, /api/v1 and Open311. An event is on it when it is public (a reporter's
    reopening comment is not), not hidden by a moderator, and of a public type."""
    return [
        event
        for event in report.events
        if event.is_public and not event.is_hidden and event.type in PUBLIC_EVENT_TYPES
    ]


def public_event_filter() -> sa.ColumnElement[bool]:
    """public_events' rule as a filter of a query on events (Open311's updates and notes).
    `|| ''` keeps SQLite, which has no statistics, off the (type, created_at) index: the
    events are found by report or by time."""
    return sa.and_(
        ReportEvent.is_public,
        ReportEvent.is_hidden.is_(False),
        ReportEvent.type.concat("").in_(constants(PUBLIC_EVENT_TYPES)),
    )


def public_report(city: City, reference: str) -> Report | None:
    return db.session.scalar(
        sa.select(Report)
        .where(Report.city_id == city.id, Report.reference == reference, is_public())
        .options(selectinload(Report.photos), selectinload(Report.events))
    )


def report_by_reference(reference: str) -> Report | None:
    """Any report, hidden or not: for its reporter's private page and for staff."""
    return db.session.scalar(sa.select(Report).where(Report.reference == reference))


def recent_public(city: City, kind: str | None = None, limit: int = 20) -> list[Report]:
    query = sa.select(Report).where(Report.city_id == city.id, is_public())
    if kind:
        query = query.where(Report.kind == kind)
    query = query.order_by(Report.created_at.desc(), Report.id.desc()).limit(limit)
    return db.session.scalars(query.options(selectinload(Report.category))).all()


@dataclass(frozen=True)
class Marker:
    reference: str
    kind: str
    status: str
    category: str
    lat: float
    lon: float


#: The map looks for a viewport's markers among this many newest reports first.
RECENT_WINDOW = 50_000


def markers_in_box(
    city: City,
    south: float,
    west: float,
    north: float,
    east: float,
    limit: int = 500,
    window: int = RECENT_WINDOW,
) -> list[Marker]:
    """Public reports with a position inside the box, newest first, at most `limit`: a map
    viewport. Reads only the columns a marker needs.

    A B-tree on (lat, lon) only narrows the latitude: a phone's viewport spans a band holding
    a third of a city's reports, read in full to keep the newest 500. So the newest
    RECENT_WINDOW reports are searched first, newest first, the box as a mere filter (`+ 0`
    keeps the planner off the position index), which fills a busy viewport after reading a
    few thousand rows; only a quiet viewport goes on to the older reports, through the index.
    (`window`: how many newest reports are searched first.)"""
    newest = db.session.scalar(sa.select(sa.func.max(Report.id)))
    if newest is None:
        return []
    boundary = newest - window
    markers = sa.select(
        Report.reference, Report.kind, Report.status, Category.code, Report.lat, Report.lon
    ).join(Category, Category.id == Report.category_id)
    recent = markers.where(
        Report.id > boundary,
        Report.city_id + 0 == city.id,
        is_public(),
        (Report.lat + 0).between(south, north),
        (Report.lon + 0).between(west, east),
    )
    found = [Marker(*row) for row in db.session.execute(_newest(recent, limit))]
    if len(found) < limit:
        older = markers.where(
            Report.id <= boundary,
            Report.city_id == city.id,
            is_public(),
            Report.lat.between(south, north),
            Report.lon.between(west, east),
        )
        found += [Marker(*row) for row in db.session.execute(_newest(older, limit - len(found)))]
    return found


def _newest(query: sa.Select, limit: int) -> sa.Select:
    return query.order_by(Report.id.desc()).limit(limit)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def nearby_open(
    city: City,
    category: Category | None,
    lat: float,
    lon: float,
    *,
    radius_m: float = 150,
    days: int = 30,
    now: datetime | None = None,
    limit: int = 10,
) -> list[tuple[Report, float]]:
    """Open public reports within `radius_m` of the point, filed in the last `days`, of
    `category` when given, nearest first, with their distance: a bounding box on the indexed
    lat/lon, then the exact distance."""
    since = (now or utcnow()) - timedelta(days=days)
    dlat = radius_m / METRES_PER_DEGREE
    dlon = radius_m / (METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
    query = sa.select(Report).where(
        Report.city_id == city.id,
        is_public(),
        Report.is_open,
        Report.created_at >= since,
        Report.lat.between(lat - dlat, lat + dlat),
        Report.lon.between(lon - dlon, lon + dlon),
    )
    if category is not None:
        query = query.where(Report.category_id == category.id)
    candidates = db.session.scalars(query.options(selectinload(Report.photos))).all()
    near = [(report, distance_m(lat, lon, report.lat, report.lon)) for report in candidates]
    near = sorted((pair for pair in near if pair[1] <= radius_m), key=lambda pair: pair[1])
    return near[:limit]


SUGGESTION_ORDERS = {
    "support": (Report.support_count.desc(), Report.created_at.desc()),
    "recent": (Report.created_at.desc(),),
}


def public_suggestions(
    city: City, order: str = "support", page: int = 1, per_page: int = 20
) -> list[Report]:
    """Ideas, most supported (or newest) first, with their public answers."""
    query = (
        sa.select(Report)
        .where(Report.city_id == city.id, Report.kind == Kind.SUGGESTION, is_public())
        .order_by(*SUGGESTION_ORDERS.get(order, SUGGESTION_ORDERS["support"]), Report.id.desc())
        .offset((max(page, 1) - 1) * per_page)
        .limit(per_page)
        .options(selectinload(Report.events), selectinload(Report.category))
    )
    return db.session.scalars(query).all()


def reports_of(user_id: int) -> list[Report]:
    """A signed-in resident's own reports, newest first ("my reports")."""
    query = (
        sa.select(Report)
        .where(Report.reporter_id == user_id)
        .order_by(Report.created_at.desc())
        .options(selectinload(Report.category))
    )
    return db.session.scalars(query).all()


def followers(report: Report) -> list[Subscription]:
    """The addresses the reporter gave to follow the report, for their private page: not who
    follows it from its public page, which is nobody else's business."""
    query = sa.select(Subscription).where(
        Subscription.report_id == report.id, Subscription.origin == "reporter"
    )
    return db.session.scalars(query.order_by(Subscription.id)).all()


# --- Feeds and open data ------------------------------------------------------------------------

#: The columns of the open data, in their order.
OPEN_DATA_COLUMNS = (
    "reference",
    "kind",
    "category",
    "status",
    "open311_status",
    "zone",
    "lat",
    "lon",
    "address",
    "description",
    "support_count",
    "created_at",
    "closed_at",
)


def latest_public(
    city: City, *, zone: str = "", category: str = "", limit: int = 50
) -> list[tuple[Report, str, str | None]]:
    """The newest public reports of `city` (of the zone slug `zone`, of the category code
    `category` when given): (report, its category's code, its zone's name or None)."""
    query = (
        sa.select(Report, Category.code, Zone.name)
        .join(Category, Category.id == Report.category_id)
        .outerjoin(Zone, Zone.id == Report.zone_id)
        .where(Report.city_id == city.id, is_public())
        .order_by(Report.created_at.desc(), Report.id.desc())
        .limit(limit)
    )
    if zone:
        query = query.where(Zone.slug == zone)
    if category:
        query = query.where(Category.code == category)
    return db.session.execute(query).all()


def open_data_rows(city: City, *, zone: str = "", category: str = "") -> Iterator[dict]:
    """Every public report of `city` (of a zone slug, of a category code) as a row of the open
    data (OPEN_DATA_COLUMNS: contacts masked, times in ISO 8601 in the city's time zone, with
    its offset), oldest first.

    The rows are read lazily, on a connection of their own through a server-side cursor, while
    the caller iterates (a response streaming them): a million never sit in memory, and the
    reading needs no app context then. The engine is taken now, when this is called."""
    query = (
        sa.select(
            Report.reference,
            Report.kind,
            Category.code.label("category"),
            Report.status,
            Zone.name.label("zone"),
            Report.lat,
            Report.lon,
            Report.address,
            Report.description,
            Report.support_count,
            Report.created_at,
            Report.closed_at,
        )
        .join(Category, Category.id == Report.category_id)
        .outerjoin(Zone, Zone.id == Report.zone_id)
        .where(Report.city_id == city.id, is_public())
        .order_by(Report.id)
    )
    if zone:
        query = query.where(Zone.slug == zone)
    if category:
        query = query.where(Category.code == category)
    return _streamed(db.engine, query, contact_region(city), ZoneInfo(city.timezone))


def _streamed(engine: sa.Engine, query: sa.Select, region: str, zone: ZoneInfo) -> Iterator[dict]:
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=2000).execute(query)
        for row in result:
            text = public_text(row, region)
            yield {
                **row._mapping,
                "zone": row.zone or "",
                "open311_status": open311_status(row.status),
                "address": text.address,
                "description": text.description,
                "created_at": iso_local(row.created_at, zone),
                "closed_at": iso_local(row.closed_at, zone) if row.closed_at else "",
            }
