"""The statistics' per-day aggregates (stats_daily, stats_durations in tellcity.stats.models),
kept in the same transaction as every write that changes what a report counts for: the one
home of what a report adds to them.

A report adds, on the local day it was received, to received, duplicates, closed at an
unknown time and open now; on the local day it was closed, to closed, with a deadline, on
time, resolved and confirmed; and one value to the multisets of the milliseconds it took to
be acknowledged (on the day received) and closed (on the day closed). Each in its cell: city,
department, category, zone (0: none), kind, public or not. Each duration is also counted in
its band (`band`) per local month (stats_duration_bands), for the percentiles to find the
band a rank falls in (tellcity.stats.aggregates.spreads).

A change is applied as the difference between what the report added before and what it adds
after, through one upsert per table (executemany): any change of any column (a status move,
a reopening, a transfer, a merge, a moderation, a deletion) is kept right without knowing
which it was. One session hook sees every report the ORM flushes; the writes without the
ORM's unit of work call this module themselves: a submission (`report_filed`), an import's
bulk rows (`add_reports`, set-based), a bulk UPDATE (`changing`). `rebuild` makes them again
from the reports table (the migration's backfill, `flask stats rebuild`).

The same definitions are written twice, once for one report in Python (`contribution`) and
once in SQL for many (`_daily_select`, `_durations_select`): tests/stats/test_daily.py checks
them against each other and against the raw figures on random histories."""

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tellcity.cities.models import City
from tellcity.core.db import UTCDateTime
from tellcity.reports.models import Report
from tellcity.reports.states import OPEN_STATUSES, Status
from tellcity.stats.models import (
    DAILY_COUNTS,
    DAILY_KEY,
    stats_daily,
    stats_duration_bands,
    stats_durations,
)
from tellcity.stats.periods import utc_offsets

#: stats_durations.measure: the time to acknowledge, the time to close.
ACKNOWLEDGE, CLOSE = 1, 2
RESOLVED = frozenset({Status.RESOLVED, Status.DONE})
#: The columns of a report its contribution depends on.
COLUMNS = (
    "id",
    "city_id",
    "department_id",
    "category_id",
    "zone_id",
    "kind",
    "status",
    "is_hidden",
    "created_at",
    "acknowledged_at",
    "closed_at",
    "due_at",
    "confirmed_at",
)
#: The attributes whose change changes them (a relationship's is seen before the flush sets
#: its column).
_TRACKED = (frozenset(COLUMNS) - {"id"}) | {"city", "department", "category", "zone"}
_REPORTS = Report.__table__
_SELECT_STATES = sa.select(*(_REPORTS.c[name] for name in COLUMNS)).where(
    _REPORTS.c.id.in_(sa.bindparam("ids", expanding=True))
)
#: session.info keys: the states of the reports a flush changes, read before it.
_BEFORE = "tellcity.stats_daily_before"
#: The key of a row of stats_duration_bands.
BANDS_KEY = ("measure", "city_id", "month", *DAILY_KEY[2:], "band")
#: The lower bounds of the bands of durations (milliseconds), but the first's: four bands per
#: doubling (each about 19 % wider than the one before it), from 1 ms to about 100 years.
BOUNDS = tuple(sorted({round(2 ** (i / 4)) for i in range(4 * 42)}))


# --- What one report adds ---------------------------------------------------------------------


def milliseconds_between(earlier: datetime, later: datetime) -> int:
    """Milliseconds from `earlier` to `later`, to the nearest (half away from zero, as the SQL
    of `_milliseconds` rounds them)."""
    microseconds = (later - earlier) // timedelta(microseconds=1)
    return (abs(microseconds) + 500) // 1000 * (1 if microseconds >= 0 else -1)


def band(milliseconds: int) -> int:
    """The band of a duration: how many of BOUNDS it reaches (0: under 1 ms)."""
    return bisect_right(BOUNDS, milliseconds)


def band_sql(milliseconds):
    """SQL: band(milliseconds), by halving the bands (a CASE eight deep)."""

    def within(low: int, high: int):
        if low == high:
            return sa.literal_column(str(low))
        middle = (low + high + 1) // 2
        bound = sa.literal_column(str(BOUNDS[middle - 1]))
        return sa.case((milliseconds < bound, within(low, middle - 1)), else_=within(middle, high))

    return within(0, len(BOUNDS))


def month_of(dialect_name: str, day):
    """SQL: the first day of the month of the date `day`."""
    if dialect_name == "postgresql":
        return sa.cast(sa.func.date_trunc("month", day), sa.Date)
    return sa.func.date(day, "start of month")


class Deltas:
    """Changes to the aggregates, added up before they are written."""

    def __init__(self):
        self.daily: dict[tuple, Counter] = {}
        self.durations: Counter = Counter()
        self.bands: Counter = Counter()

    def _duration(self, measure: int, key: tuple, milliseconds: int, sign: int) -> None:
        self.durations[(measure, *key, milliseconds)] += sign
        city, day, *cell = key
        self.bands[(measure, city, day.replace(day=1), *cell, band(milliseconds))] += sign

    def add(self, report: Mapping, zone: ZoneInfo, sign: int = 1) -> None:
        """Add (sign 1) or take away (sign -1) what `report` (its COLUMNS) counts for."""
        status, closed_at = report["status"], report["closed_at"]
        cell = (
            report["department_id"] or 0,
            report["category_id"] or 0,
            report["zone_id"] or 0,
            report["kind"],
            int(not report["is_hidden"] and status != Status.REJECTED),
        )
        city, created = report["city_id"], report["created_at"]
        received = (city, _day(created, zone), *cell)
        counts = self.daily.setdefault(received, Counter())
        counts["received"] += sign
        counts["duplicates"] += sign * (status == Status.DUPLICATE)
        counts["closed_undated"] += sign * (status not in OPEN_STATUSES and closed_at is None)
        counts["open"] += sign * (status in OPEN_STATUSES)
        if report["acknowledged_at"] is not None:
            taken = milliseconds_between(created, report["acknowledged_at"])
            self._duration(ACKNOWLEDGE, received, taken, sign)
        if closed_at is None:
            return
        closed = (city, _day(closed_at, zone), *cell)
        counts = self.daily.setdefault(closed, Counter())
        due, resolved = report["due_at"], status in RESOLVED
        counts["closed"] += sign
        counts["closed_with_deadline"] += sign * (due is not None)
        counts["closed_on_time"] += sign * (due is not None and closed_at <= due)
        counts["resolved"] += sign * resolved
        counts["confirmed"] += sign * (resolved and report["confirmed_at"] is not None)
        self._duration(CLOSE, closed, milliseconds_between(created, closed_at), sign)

    def write(self, connection: sa.Connection) -> None:
        """Apply the changes: one upsert per table, rows that change nothing left out."""
        daily = [
            dict(zip(DAILY_KEY, key, strict=True)) | {name: counts[name] for name in DAILY_COUNTS}
            for key, counts in self.daily.items()
            if any(counts.values())
        ]
        durations = [
            dict(zip(("measure", *DAILY_KEY, "milliseconds"), key, strict=True))
            | {"count": count, "band": band(key[-1])}
            for key, count in self.durations.items()
            if count
        ]
        bands = [
            dict(zip(BANDS_KEY, key, strict=True)) | {"count": count}
            for key, count in self.bands.items()
            if count
        ]
        name = connection.dialect.name
        if daily:
            connection.execute(_upsert(name, stats_daily, DAILY_COUNTS), daily)
        if durations:
            connection.execute(_upsert(name, stats_durations, ("count",)), durations)
        if bands:
            connection.execute(_upsert(name, stats_duration_bands, ("count",)), bands)


def contribution(report: Mapping, zone: ZoneInfo) -> Deltas:
    """What `report` (a mapping of COLUMNS) adds to the aggregates."""
    deltas = Deltas()
    deltas.add(report, zone)
    return deltas


def _day(moment: datetime, zone: ZoneInfo) -> date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).date()


_UPSERTS: dict = {}


def _upsert(dialect_name: str, table: sa.Table, counts: tuple[str, ...]):
    """INSERT one row per parameter set, or add its counts to the row of the same key."""
    cached = _UPSERTS.get((dialect_name, table.name))
    if cached is not None:
        return cached
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=[column.name for column in table.primary_key.columns],
        set_={name: table.c[name] + statement.excluded[name] for name in counts},
    )
    _UPSERTS[(dialect_name, table.name)] = statement
    return statement


# --- Time zones -------------------------------------------------------------------------------


def city_zone(connection: sa.Connection, city_id: int) -> ZoneInfo:
    """The time zone of the city (read each time: one primary-key lookup per write that is
    not a submission, which knows its city)."""
    name = connection.execute(
        sa.select(City.__table__.c.timezone).where(City.__table__.c.id == city_id)
    ).scalar_one()
    return ZoneInfo(name)


# --- The writes -------------------------------------------------------------------------------


def apply(
    connection: sa.Connection,
    before: Iterable[Mapping],
    after: Iterable[Mapping],
    zones: dict[int, ZoneInfo] | None = None,
) -> None:
    """Take away what the reports `before` counted for and add what they count for `after`
    (mappings of COLUMNS; a report in one list only was made or deleted). `zones`: the time
    zones of their cities, by id, when known."""
    deltas, zones = Deltas(), dict(zones or {})
    for sign, reports in ((-1, before), (1, after)):
        for report in reports:
            city_id = report["city_id"]
            if city_id not in zones:
                zones[city_id] = city_zone(connection, city_id)
            deltas.add(report, zones[city_id], sign)
    deltas.write(connection)


def states(connection: sa.Connection, report_ids) -> list[Mapping]:
    """The COLUMNS of the reports `report_ids` as the transaction sees them."""
    found = []
    report_ids = list(report_ids)
    for start in range(0, len(report_ids), 500):
        rows = connection.execute(_SELECT_STATES, {"ids": report_ids[start : start + 500]})
        found += rows.mappings().all()
    return found


def report_filed(session: Session, report: Report) -> None:
    """A report just written without the ORM's flush (tellcity.reports.submission): what it
    counts for, from the values it was written with (no query)."""
    given = sa.inspect(report).dict
    values = {name: given.get(name) for name in COLUMNS}
    for name in ("city", "department", "category", "zone"):
        if values[f"{name}_id"] is None and given.get(name) is not None:
            values[f"{name}_id"] = given[name].id
    values["is_hidden"] = bool(values["is_hidden"])
    zone = ZoneInfo(report.city.timezone)  # given with the report: no query
    apply(session.connection(), [], [values], {values["city_id"]: zone})


@contextmanager
def changing(session: Session, report_ids):
    """Around a bulk UPDATE of the reports `report_ids`, which the flush's hook does not see:
    their states are read before and after it."""
    report_ids = list(report_ids)
    connection = session.connection()
    before = states(connection, report_ids)
    yield
    apply(connection, before, states(connection, report_ids))


def add_reports(connection: sa.Connection, condition) -> None:
    """Add what the reports meeting `condition` (on the reports table, of one city: e.g. the
    rows an import just wrote) count for, set-based."""
    city_ids = connection.execute(sa.select(_REPORTS.c.city_id).where(condition).distinct())
    for (city_id,) in city_ids.all():
        where = sa.and_(condition, _REPORTS.c.city_id == city_id)
        _add_from_reports(connection, city_id, where, upsert=True)


def rebuild(connection: sa.Connection, city_id: int | None = None, *, bands: bool = True) -> int:
    """Make the aggregates of one city (or every city) again from the reports table, in one
    transaction; returns how many cities. `bands` False: the schema of the migration 0015,
    before the bands of durations (0017 adds and fills them)."""
    cities = connection.execute(
        sa.select(City.__table__.c.id).where(
            sa.true() if city_id is None else City.__table__.c.id == city_id
        )
    ).scalars()
    count = 0
    for found in cities.all():
        tables = (stats_daily, stats_durations, stats_duration_bands)
        for table in tables if bands else tables[:2]:
            connection.execute(sa.delete(table).where(table.c.city_id == found))
        where = _REPORTS.c.city_id == found
        _add_from_reports(connection, found, where, upsert=False, bands=bands)
        if bands:
            fill_bands(connection, stats_durations.c.city_id == found)
        count += 1
    return count


def _add_from_reports(
    connection: sa.Connection, city_id: int, where, *, upsert: bool, bands: bool = True
) -> None:
    name = connection.dialect.name
    zone = city_zone(connection, city_id)
    first, last = connection.execute(
        sa.select(
            sa.func.min(_REPORTS.c.created_at),
            sa.func.max(
                sa.func.coalesce(_REPORTS.c.closed_at, _REPORTS.c.created_at),
            ),
        ).where(where)
    ).one()
    if first is None:
        return
    last = max([last, *_latest(connection, where)])
    days = _LocalDay(name, zone, first - timedelta(days=1), last + timedelta(days=1))
    durations = _durations_select(name, days, where, band=bands)
    tables = [
        (stats_daily, _daily_select(days, where), DAILY_COUNTS),
        (stats_durations, durations, ("count",)),
    ]
    if upsert:  # (a rebuild counts the bands from the durations once written: fill_bands)
        tables.append((stats_duration_bands, _bands_select(name, durations.subquery()), ("count",)))
    for table, select, counts in tables:
        columns = [column.name for column in table.columns if bands or column.name != "band"]
        if upsert:
            dialect = postgresql if name == "postgresql" else sqlite
            statement = dialect.insert(table).from_select(columns, select)
            statement = statement.on_conflict_do_update(
                index_elements=[column.name for column in table.primary_key.columns],
                set_={count: table.c[count] + statement.excluded[count] for count in counts},
            )
        else:
            statement = table.insert().from_select(columns, select)
        connection.execute(statement)


def _latest(connection: sa.Connection, where) -> tuple:
    """The latest acknowledgement (its day is the report's day received, but the SQL of
    SQLite's local days must span every timestamp it shifts)."""
    latest = connection.execute(
        sa.select(sa.func.max(_REPORTS.c.acknowledged_at)).where(where)
    ).scalar()
    return (latest,) if latest is not None else ()


class _LocalDay:
    """SQL for the local day of a timestamp of [start, end) in `zone`: AT TIME ZONE on
    PostgreSQL; on SQLite, shifted by the offset in force (tellcity.stats.sql.local_day's
    way, with the dialect given: a migration has no Flask session to ask)."""

    def __init__(self, dialect_name: str, zone: ZoneInfo, start: datetime, end: datetime):
        self.dialect_name, self.zone = dialect_name, zone
        self.offsets = None if dialect_name == "postgresql" else utc_offsets(zone, start, end)

    def __call__(self, column):
        if self.offsets is None:
            return sa.cast(sa.func.timezone(self.zone.key, column), sa.Date)

        def shifted(offset: int):
            return sa.func.date(column, f"{offset:+d} seconds")

        changes = [
            (column < sa.literal(change, UTCDateTime()), shifted(previous))
            for (_, previous), (change, _) in zip(self.offsets, self.offsets[1:], strict=False)
        ]
        if not changes:
            return shifted(self.offsets[0][1])
        return sa.case(*changes, else_=shifted(self.offsets[-1][1]))


def _cell():
    r = _REPORTS.c
    public = sa.and_(r.is_hidden.is_(False), r.status != Status.REJECTED.value)
    return [
        sa.func.coalesce(r.department_id, 0).label("department_id"),
        sa.func.coalesce(r.category_id, 0).label("category_id"),
        sa.func.coalesce(r.zone_id, 0).label("zone_id"),
        r.kind.label("kind"),
        sa.case((public, 1), else_=0).label("is_public"),
    ]


def _flag(condition):
    return sa.case((condition, 1), else_=0)


def _daily_select(day: _LocalDay, where):
    """One row per key of DAILY_KEY: what the reports meeting `where` count for (see Deltas)."""
    r = _REPORTS.c
    is_open = r.status.in_([str(status) for status in OPEN_STATUSES])
    resolved = r.status.in_([str(status) for status in RESOLVED])
    zero = sa.literal(0)
    received = sa.select(
        r.city_id,
        day(r.created_at).label("day"),
        *_cell(),
        _flag(sa.true()).label("received"),
        _flag(r.status == Status.DUPLICATE.value).label("duplicates"),
        _flag(sa.and_(sa.not_(is_open), r.closed_at.is_(None))).label("closed_undated"),
        _flag(is_open).label("open"),
        *(zero.label(name) for name in DAILY_COUNTS[4:]),
    ).where(where)
    closed = sa.select(
        r.city_id,
        day(r.closed_at).label("day"),
        *_cell(),
        *(zero.label(name) for name in DAILY_COUNTS[:4]),
        _flag(sa.true()).label("closed"),
        _flag(r.due_at.is_not(None)).label("closed_with_deadline"),
        _flag(r.closed_at <= r.due_at).label("closed_on_time"),
        _flag(resolved).label("resolved"),
        _flag(sa.and_(resolved, r.confirmed_at.is_not(None))).label("confirmed"),
    ).where(where, r.closed_at.is_not(None))
    rows = sa.union_all(received, closed).subquery("contributions")
    keys = [rows.c[name] for name in DAILY_KEY]
    sums = [sa.func.sum(rows.c[name]) for name in DAILY_COUNTS]
    return sa.select(*keys, *sums).where(sa.true()).group_by(*keys)


def _milliseconds(dialect_name: str, earlier, later):
    """SQL: milliseconds_between(earlier, later) (on SQLite, of julianday()'s difference, as
    tellcity.stats.sql.seconds_between reads it)."""
    if dialect_name == "postgresql":
        seconds = sa.cast(sa.func.date_part("epoch", later - earlier), sa.Numeric)
        return sa.cast(sa.func.round(seconds * 1000), sa.BigInteger)
    days = sa.func.julianday(later) - sa.func.julianday(earlier)
    return sa.cast(sa.func.round(days * 86400000.0), sa.BigInteger)


def _durations_select(dialect_name: str, day: _LocalDay, where, *, band: bool = True):
    r = _REPORTS.c
    parts = []
    for measure, end, day_of in (
        (ACKNOWLEDGE, r.acknowledged_at, r.created_at),
        (CLOSE, r.closed_at, r.closed_at),
    ):
        parts.append(
            sa.select(
                sa.literal(measure).label("measure"),
                r.city_id,
                day(day_of).label("day"),
                *_cell(),
                _milliseconds(dialect_name, r.created_at, end).label("milliseconds"),
            ).where(where, end.is_not(None))
        )
    rows = sa.union_all(*parts).subquery("durations")
    keys = [rows.c[name] for name in ("measure", *DAILY_KEY, "milliseconds")]
    columns = [*keys, sa.func.count().label("count")]
    if band:
        columns.append(band_sql(rows.c.milliseconds).label("band"))
    return sa.select(*columns).where(sa.true()).group_by(*keys)


def _bands_select(dialect_name: str, durations):
    """The rows of stats_duration_bands that the rows of stats_durations `durations` (a table
    or subquery) add up to."""
    d = durations.c
    month = month_of(dialect_name, d.day).label("month")
    keys = [d.measure, d.city_id, month, *(d[name] for name in DAILY_KEY[2:]), d.band]
    return sa.select(*keys, sa.func.sum(d["count"])).where(sa.true()).group_by(*keys)


def fill_bands(connection: sa.Connection, condition) -> None:
    """Count the bands of the rows of stats_durations meeting `condition` into an empty
    stats_duration_bands (a rebuild, the migration 0017)."""
    select = _bands_select(connection.dialect.name, stats_durations).where(condition)
    columns = [column.name for column in stats_duration_bands.columns]
    connection.execute(stats_duration_bands.insert().from_select(columns, select))


# --- The ORM's writes -------------------------------------------------------------------------


@event.listens_for(Session, "before_flush")
def _read_before(session: Session, flush_context, instances) -> None:
    """Before a flush: the states of the reports it changes or deletes, as stored."""
    changed = set()
    for obj in session.dirty:
        if isinstance(obj, Report) and _is_changed(obj):
            changed.add(obj.id)
    for obj in session.deleted:
        if isinstance(obj, Report) and obj.id is not None:
            changed.add(obj.id)
    new = [obj for obj in session.new if isinstance(obj, Report)]
    if not changed and not new:
        return
    known = session.info.setdefault(_BEFORE, ([], []))
    known[0].extend(states(session.connection(), changed - {None}) if changed else [])
    known[1].extend(new)


def _is_changed(report: Report) -> bool:
    attributes = sa.inspect(report).attrs
    return any(attributes[name].history.has_changes() for name in _TRACKED)


@event.listens_for(Session, "after_flush")
def _apply_after(session: Session, flush_context) -> None:
    """After it: the difference between those states and the stored ones now."""
    known = session.info.pop(_BEFORE, None)
    if known is None:
        return
    before, new = known
    ids = {row["id"] for row in before} | {obj.id for obj in new if obj.id is not None}
    connection = session.connection()
    apply(connection, before, states(connection, ids))


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    session.info.pop(_BEFORE, None)
