"""The statistics of a city over a range of local dates, with optional department, category,
zone and kind filters: the one query layer the pages, their exports and `GET /api/v1/stats`
read. Everything is aggregated in the database (GROUP BY over indexed columns); Python only
adds up aggregated rows (per group, per day), never one row per report.

What each figure means is in DEFINITIONS, shown on the page and returned by the API."""

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from tellcity.categories.models import Category
from tellcity.cities.models import City, Zone
from tellcity.core.db import utcnow
from tellcity.core.errors import Invalid
from tellcity.core.text import mask_contacts
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.reports.models import Report, ReportEvent
from tellcity.reports.queries import is_public
from tellcity.reports.states import OPEN_STATUSES, EventType, Kind, Status
from tellcity.stats.periods import (
    DEFAULT_DAYS,
    MAX_DAYS,
    DateRange,
    bucket_start,
    buckets,
    last_days,
    local_today,
)
from tellcity.stats.sql import Spread, as_date, local_day, seconds_between, spreads

#: Backlog age buckets, in days: lower bound included, upper bound excluded.
AGE_BUCKETS: tuple[tuple[int, int | None], ...] = ((0, 2), (2, 7), (7, 30), (30, 90), (90, None))
#: A hotspot is a cell of 0.001° of latitude by 0.001° of longitude (about 110 m by 75 m in
#: France) holding at least HOTSPOT_MIN reports.
HOTSPOT_CELLS_PER_DEGREE = 1000
HOTSPOT_MIN = 3
HOTSPOT_LIMIT = 20
TOP_CATEGORIES = 10
TOP_SUGGESTIONS = 10
GROUPINGS = ("department", "category", "zone")

DEFINITIONS = {
    "range": _l(
        "from and to are local dates of the city, both included; the previous period is the "
        "range of the same length just before. Filters (department, category, zone, kind) "
        "apply to each report as it is now."
    ),
    "received": _l("Reports created in the range (problems and suggestions, unless filtered)."),
    "closed": _l(
        "Reports whose closing time (resolved, duplicate, referred, not actionable, rejected, "
        "declined or done) falls in the range; a reopened report is open again until closed."
    ),
    "series": _l(
        "Received and closed per local day, week (from Monday) or month of the city; the "
        "first and last week or month may cover only part of the range."
    ),
    "backlog": _l(
        "Reports open at the end of the range (now, when the range ends today): created "
        "before it and either open now or closed after it."
    ),
    "backlog_ages": _l(
        "Age of the backlog at the end of the range, in days: under 2, 2 to 7, 7 to 30, "
        "30 to 90, 90 and more (each bucket includes its lower bound)."
    ),
    "time_to_acknowledge": _l(
        "Seconds from creation to the first acknowledgement, over reports created in the "
        "range that have been acknowledged."
    ),
    "time_to_close": _l("Seconds from creation to closing, over reports closed in the range."),
    "median": _l(
        "The middle value, or the mean of the two middle values when their number is even "
        "(Python's statistics.median)."
    ),
    "p90": _l(
        "90th percentile, interpolated linearly between the two nearest ranks at rank "
        "1 + 0.9 * (n - 1): Python's statistics.quantiles(n=10, method='inclusive')[8], "
        "PostgreSQL's percentile_cont(0.9)."
    ),
    "sla_compliance": _l(
        "Share of the reports closed in the range that had a deadline (their category's "
        "target, in business hours) and were closed by it."
    ),
    "resolved": _l(
        "Reports marked resolved (or done, for suggestions) in the range, counted once each."
    ),
    "reopen_rate": _l(
        "Share of the reports resolved in the range later reopened by their reporter."
    ),
    "confirmed_fix_rate": _l(
        "Share of the reports resolved in the range whose reporter later confirmed the fix."
    ),
    "duplicates": _l("Reports created in the range and now closed as duplicates of another."),
    "transfers": _l(
        "Transfers from one department to another made in the range, and the number of "
        "reports transferred."
    ),
    "per_1000": _l(
        "Figures per 1,000 inhabitants of the zone (its recorded population); none when the "
        "zone's population is unknown."
    ),
    "top_categories": _l("The categories that received the most reports in the range."),
    "hotspots": _l(
        "Cells of 0.001° of latitude by 0.001° of longitude (about 110 m by 75 m) with at "
        "least 3 public reports created in the range, most reports first, at most 20."
    ),
    "suggestions": _l("Public suggestions created in the range with the most support, at most 10."),
    "rates": _l(
        "Rates and shares are fractions between 0 and 1; none when there is nothing to count."
    ),
}


@dataclass(frozen=True)
class StatsFilters:
    """What the statistics are about: a city, a range of its local dates, optional filters,
    and how the time series is bucketed (day, week or month)."""

    city: City
    dates: DateRange
    department: Department | None = None
    category: Category | None = None
    zone: Zone | None = None
    kind: str | None = None
    period: str = "day"

    def scope(self) -> list:
        """The conditions on Report every figure shares."""
        conditions = [Report.city_id == self.city.id]
        for column, value in (
            (Report.department_id, self.department and self.department.id),
            (Report.category_id, self.category and self.category.id),
            (Report.zone_id, self.zone and self.zone.id),
            (Report.kind, self.kind),
        ):
            if value is not None:
                conditions.append(column == value)
        return conditions

    def codes(self) -> dict[str, str | None]:
        """The filters as the query string gives them (slugs and codes)."""
        return {
            "department": self.department.slug if self.department else None,
            "category": self.category.code if self.category else None,
            "zone": self.zone.slug if self.zone else None,
            "kind": self.kind,
        }

    def to_args(self) -> dict[str, str]:
        """The query string that gives these filters back (for links and exports)."""
        args = {"city": self.city.slug, "from": self.dates.first.isoformat()}
        args["to"] = self.dates.last.isoformat()
        args |= {name: value for name, value in self.codes().items() if value}
        return args | {"period": self.period}

    def created_in_range(self) -> list:
        return [
            *self.scope(),
            Report.created_at >= self.dates.start,
            Report.created_at < self.dates.end,
        ]

    def closed_in_range(self) -> list:
        return [
            *self.scope(),
            Report.closed_at >= self.dates.start,
            Report.closed_at < self.dates.end,
        ]

    def previous(self) -> "StatsFilters":
        return replace(self, dates=self.dates.previous())


def make_filters(
    city: City,
    *,
    first: date | None = None,
    last: date | None = None,
    department: str | None = None,
    category: str | None = None,
    zone: str | None = None,
    kind: str | None = None,
    period: str | None = None,
    now: datetime | None = None,
) -> StatsFilters:
    """The filters of a request: local dates (by default the last 30 days up to today, or 30
    days from `first` or up to `last` when only one is given), a department, category or zone
    of the city by id, slug or code, a kind and a period (by default one that suits the
    range's length).

    Raises Invalid for a range that ends before it starts or spans more than MAX_DAYS, and
    for a department, category or zone the city does not have."""
    dates = _date_range(city, first, last, now)
    return StatsFilters(
        city=city,
        dates=dates,
        department=_find(Department, Department.slug, city, department, "department"),
        category=_find(Category, Category.code, city, category, "category"),
        zone=_find(Zone, Zone.slug, city, zone, "zone"),
        kind=kind,
        period=period or dates.default_period(),
    )


def _date_range(
    city: City, first: date | None, last: date | None, now: datetime | None
) -> DateRange:
    span = timedelta(days=DEFAULT_DAYS - 1)
    if first is None and last is None:
        return last_days(city.timezone, now=now)
    if last is None:
        last = min(first + span, local_today(city.timezone, now))
        last = max(last, first)
    first = first or last - span
    if last < first:
        raise Invalid(_("The range ends before it starts."), code="invalid_range", field="to")
    if (last - first).days + 1 > MAX_DAYS:
        raise Invalid(
            _("A range of at most %(days)s days, please.", days=MAX_DAYS),
            code="range_too_long",
            field="from",
        )
    return DateRange(first, last, city.timezone)


def _find(model, code_column, city: City, value: str | None, name: str):
    """The city's row of `model` whose id (all digits) or slug/code is `value`."""
    if not value:
        return None
    column = model.id if value.isdigit() else code_column
    found = db.session.scalar(sa.select(model).where(model.city_id == city.id, column == value))
    if found is None:
        raise Invalid(
            _("Unknown %(what)s: %(value)s", what=name, value=value),
            code="unknown_" + name,
            field=name,
        )
    return found


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Figures:
    """The counts and durations of one group (the whole selection, a department, a category or
    a zone) over the range."""

    received: int = 0
    closed: int = 0
    closed_with_deadline: int = 0
    closed_on_time: int = 0
    duplicates: int = 0
    backlog: int = 0
    backlog_ages: list[int] = field(default_factory=lambda: [0] * len(AGE_BUCKETS))
    time_to_acknowledge: Spread = field(default_factory=Spread)
    time_to_close: Spread = field(default_factory=Spread)

    @property
    def sla_compliance(self) -> float | None:
        return ratio(self.closed_on_time, self.closed_with_deadline)

    @property
    def is_empty(self) -> bool:
        return not (self.received or self.closed or self.backlog)

    def add(self, other: "Figures") -> None:
        """Add another group's counts (not its durations, which do not add up)."""
        for name in ("received", "closed", "closed_with_deadline", "closed_on_time"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.duplicates += other.duplicates
        self.backlog += other.backlog
        self.backlog_ages = [
            a + b for a, b in zip(self.backlog_ages, other.backlog_ages, strict=True)
        ]


@dataclass
class GroupRow:
    """One row of a department, category or zone table."""

    id: int | None
    code: str
    name: str
    figures: Figures
    population: int | None = None

    def per_1000(self, count: int) -> float | None:
        return count * 1000 / self.population if self.population else None


@dataclass(frozen=True)
class SeriesPoint:
    start: date
    received: int
    closed: int


@dataclass(frozen=True)
class Outcomes:
    resolved: int = 0
    reopened: int = 0
    confirmed: int = 0

    @property
    def reopen_rate(self) -> float | None:
        return ratio(self.reopened, self.resolved)

    @property
    def confirmed_fix_rate(self) -> float | None:
        return ratio(self.confirmed, self.resolved)


@dataclass(frozen=True)
class Transfers:
    count: int = 0
    reports: int = 0


@dataclass(frozen=True)
class Hotspot:
    lat: float
    lon: float
    south: float
    west: float
    north: float
    east: float
    count: int
    open: int


@dataclass(frozen=True)
class SuggestionRow:
    reference: str
    category: str
    status: str
    support_count: int
    created_at: datetime
    summary: str


@dataclass
class Headline:
    """The figures a period is summed up by, compared with the previous period."""

    received: int
    closed: int
    backlog: int
    median_time_to_acknowledge: float | None
    median_time_to_close: float | None
    sla_compliance: float | None
    confirmed_fix_rate: float | None

    NAMES = (
        "received",
        "closed",
        "backlog",
        "median_time_to_acknowledge",
        "median_time_to_close",
        "sla_compliance",
        "confirmed_fix_rate",
    )


@dataclass
class Overview:
    """Every figure of a selection."""

    filters: StatsFilters
    as_of: datetime
    totals: Figures
    outcomes: Outcomes
    transfers: Transfers
    series: list[SeriesPoint]
    departments: list[GroupRow]
    categories: list[GroupRow]
    zones: list[GroupRow]
    hotspots: list[Hotspot]
    suggestions: list[SuggestionRow]
    previous: Headline

    @property
    def headline(self) -> Headline:
        return headline_of(self.totals, self.outcomes)

    @property
    def top_categories(self) -> list[GroupRow]:
        busiest = sorted(self.categories, key=lambda row: (-row.figures.received, row.name))
        return [row for row in busiest if row.figures.received][:TOP_CATEGORIES]


def headline_of(totals: Figures, outcomes: Outcomes) -> Headline:
    return Headline(
        received=totals.received,
        closed=totals.closed,
        backlog=totals.backlog,
        median_time_to_acknowledge=totals.time_to_acknowledge.median,
        median_time_to_close=totals.time_to_close.median,
        sla_compliance=totals.sla_compliance,
        confirmed_fix_rate=outcomes.confirmed_fix_rate,
    )


def overview(filters: StatsFilters, *, locale: str = "fr", now: datetime | None = None) -> Overview:
    """Every figure of `filters`' selection, and the headline of the period before it. The
    backlog is counted at the end of the range, or `now` when the range ends later."""
    as_of = min(filters.dates.end, now or utcnow())
    figures = group_figures(filters, as_of)
    names = _names(filters.city, locale)
    return Overview(
        filters=filters,
        as_of=as_of,
        totals=figures[("all", None)],
        outcomes=outcomes(filters),
        transfers=transfers(filters),
        series=series(filters),
        departments=_rows(figures, "department", names),
        categories=_rows(figures, "category", names),
        zones=_rows(figures, "zone", names),
        hotspots=hotspots(filters),
        suggestions=top_suggestions(filters, locale),
        previous=headline(filters.previous(), now=now),
    )


def headline(filters: StatsFilters, *, now: datetime | None = None) -> Headline:
    """The headline figures of one period alone (for the period a page compares with)."""
    as_of = min(filters.dates.end, now or utcnow())
    totals = group_figures(filters, as_of, groupings=())[("all", None)]
    return headline_of(totals, outcomes(filters))


# --- Counts and durations per group ----------------------------------------------------------

Key = tuple[str, int | None]


def group_figures(
    filters: StatsFilters, as_of: datetime, groupings: tuple[str, ...] = GROUPINGS
) -> dict[Key, Figures]:
    """Figures of the whole selection, key ("all", None), and of each department, category
    and zone, key ("department", id)... Counts come from three queries grouped by
    (department, category, zone), added up here; durations from one query each."""
    figures: dict[Key, Figures] = {}

    def of(cell: tuple, grouping: str) -> Figures:
        key = ("all", None) if grouping == "all" else (grouping, cell[GROUPINGS.index(grouping)])
        return figures.setdefault(key, Figures())

    for cell, counts in _cell_counts(filters, as_of).items():
        for grouping in ("all", *groupings):
            of(cell, grouping).add(counts)
    figures.setdefault(("all", None), Figures())
    for attribute, values in (
        ("time_to_acknowledge", _acknowledge_times(filters)),
        ("time_to_close", _close_times(filters)),
    ):
        for key, spread in spreads(_by_groupings(values, groupings)).items():
            setattr(figures.setdefault(key, Figures()), attribute, spread)
    return figures


def _cell_counts(filters: StatsFilters, as_of: datetime) -> dict[tuple, Figures]:
    """Counts per (department, category, zone) cell: received, duplicates, closed, closed with
    a deadline and on time, backlog by age."""
    cells: dict[tuple, Figures] = {}
    dims = (Report.department_id, Report.category_id, Report.zone_id)
    is_duplicate = sa.case((Report.status == Status.DUPLICATE, 1), else_=0)
    received = sa.select(*dims, sa.func.count(), sa.func.sum(is_duplicate)).where(
        *filters.created_in_range()
    )
    for *cell, count, duplicates in db.session.execute(received.group_by(*dims)):
        figures = cells.setdefault(tuple(cell), Figures())
        figures.received, figures.duplicates = count, duplicates or 0
    on_time = sa.case((Report.closed_at <= Report.due_at, 1), else_=0)
    closed = sa.select(*dims, sa.func.count(), sa.func.count(Report.due_at), sa.func.sum(on_time))
    for *cell, count, with_deadline, in_time in db.session.execute(
        closed.where(*filters.closed_in_range()).group_by(*dims)
    ):
        figures = cells.setdefault(tuple(cell), Figures())
        figures.closed, figures.closed_with_deadline, figures.closed_on_time = (
            count,
            with_deadline,
            in_time or 0,
        )
    for *cell, age, count in _backlog_by_age(filters, as_of):
        figures = cells.setdefault(tuple(cell), Figures())
        figures.backlog += count
        figures.backlog_ages[age] += count
    return cells


def _backlog_by_age(filters: StatsFilters, as_of: datetime):
    """(department, category, zone, age bucket, count) rows of the reports open at `as_of`:
    open now, or closed since (only possible when `as_of` is in the past)."""
    age = sa.case(
        *[
            (Report.created_at > as_of - timedelta(days=upper), index)
            for index, (_, upper) in enumerate(AGE_BUCKETS)
            if upper is not None
        ],
        else_=len(AGE_BUCKETS) - 1,
    ).label("age")
    dims = (Report.department_id, Report.category_id, Report.zone_id)
    is_open = Report.status.in_([str(status) for status in OPEN_STATUSES])
    open_then = sa.or_(is_open, Report.closed_at >= as_of) if as_of < utcnow() else is_open
    cells = (
        sa.select(*dims, age)
        .where(*filters.scope(), Report.created_at < as_of, open_then)
        .subquery("backlog")
    )
    dims = (cells.c.department_id, cells.c.category_id, cells.c.zone_id)
    return db.session.execute(
        sa.select(*dims, cells.c.age, sa.func.count()).group_by(*dims, cells.c.age)
    )


def _acknowledge_times(filters: StatsFilters):
    return sa.select(
        Report.department_id,
        Report.category_id,
        Report.zone_id,
        seconds_between(Report.created_at, Report.acknowledged_at).label("value"),
    ).where(*filters.created_in_range(), Report.acknowledged_at.is_not(None))


def _close_times(filters: StatsFilters):
    return sa.select(
        Report.department_id,
        Report.category_id,
        Report.zone_id,
        seconds_between(Report.created_at, Report.closed_at).label("value"),
    ).where(*filters.closed_in_range())


def _by_groupings(values, groupings: tuple[str, ...]):
    """The (grouping, key, value) rows `spreads` reads: each value once for the whole
    selection and once under each of its groups."""
    values = values.cte("durations")
    columns = {
        "department": values.c.department_id,
        "category": values.c.category_id,
        "zone": values.c.zone_id,
    }
    parts = [
        sa.select(
            sa.literal("all").label("grouping"),
            sa.cast(sa.null(), sa.Integer).label("key"),
            values.c.value,
        )
    ]
    parts += [sa.select(sa.literal(name), columns[name], values.c.value) for name in groupings]
    return sa.union_all(*parts).subquery("grouped")


def _names(city: City, locale: str) -> dict[Key, tuple[str, str, int | None]]:
    """(code, name, population) of the city's departments, categories and zones."""
    names: dict[Key, tuple[str, str, int | None]] = {}
    for department in db.session.scalars(
        sa.select(Department).where(Department.city_id == city.id)
    ):
        names[("department", department.id)] = (department.slug, department.name, None)
    for category in db.session.scalars(sa.select(Category).where(Category.city_id == city.id)):
        names[("category", category.id)] = (category.code, category.name(locale), None)
    for zone in db.session.scalars(sa.select(Zone).where(Zone.city_id == city.id)):
        names[("zone", zone.id)] = (zone.slug, zone.name, zone.population)
    return names


def _rows(figures: dict[Key, Figures], grouping: str, names: dict) -> list[GroupRow]:
    """The groups of `grouping` that have anything to show, busiest first."""
    rows = []
    for (kind, key), group in figures.items():
        if kind != grouping or group.is_empty:
            continue
        code, name, population = names.get((kind, key), ("", str(_l("No zone")), None))
        rows.append(GroupRow(key, code, name, group, population))
    return sorted(rows, key=lambda row: (-row.figures.received, -row.figures.backlog, row.name))


# --- Time series ----------------------------------------------------------------------------


def series(filters: StatsFilters) -> list[SeriesPoint]:
    """Received and closed per day, week or month (filters.period) of the range, zeros
    included. The database counts per local day; days are added up into weeks and months
    here (at most one row per day of the range)."""
    received = _per_day(filters, Report.created_at, filters.created_in_range())
    closed = _per_day(filters, Report.closed_at, filters.closed_in_range())
    points = {start: [0, 0] for start in buckets(filters.dates, filters.period)}
    for index, counts in enumerate((received, closed)):
        for day, count in counts.items():
            points[bucket_start(day, filters.period)][index] += count
    return [SeriesPoint(start, *counts) for start, counts in points.items()]


def _per_day(filters: StatsFilters, column, conditions: list) -> dict[date, int]:
    dates = filters.dates
    days = (
        sa.select(local_day(column, dates.timezone, dates.start, dates.end).label("day"))
        .where(*conditions)
        .subquery("days")
    )
    query = sa.select(days.c.day, sa.func.count()).group_by(days.c.day)
    return {as_date(day): count for day, count in db.session.execute(query)}


# --- Outcomes, transfers ----------------------------------------------------------------------


def outcomes(filters: StatsFilters) -> Outcomes:
    """The reports resolved in the range (from their status-change events), and how many of
    them were later reopened by their reporter, or confirmed fixed."""
    resolved = (
        sa.select(ReportEvent.report_id, sa.func.min(ReportEvent.created_at).label("resolved_at"))
        .join(Report, Report.id == ReportEvent.report_id)
        .where(
            *filters.scope(),
            ReportEvent.type == EventType.STATUS_CHANGE,
            ReportEvent.to_value.in_([Status.RESOLVED, Status.DONE]),
            ReportEvent.created_at >= filters.dates.start,
            ReportEvent.created_at < filters.dates.end,
        )
        .group_by(ReportEvent.report_id)
        .subquery("resolved")
    )

    def later(event_type: str):
        later_event = sa.select(ReportEvent.id).where(
            ReportEvent.report_id == resolved.c.report_id,
            ReportEvent.type == event_type,
            ReportEvent.created_at > resolved.c.resolved_at,
        )
        return sa.func.sum(sa.case((later_event.exists(), 1), else_=0))

    row = db.session.execute(
        sa.select(
            sa.func.count(), later(EventType.REOPEN), later(EventType.CONFIRMATION)
        ).select_from(resolved)
    ).one()
    return Outcomes(row[0], row[1] or 0, row[2] or 0)


def transfers(filters: StatsFilters) -> Transfers:
    """Transfer events in the range, and the reports they moved."""
    row = db.session.execute(
        sa.select(sa.func.count(), sa.func.count(sa.distinct(ReportEvent.report_id)))
        .join(Report, Report.id == ReportEvent.report_id)
        .where(
            *filters.scope(),
            ReportEvent.type == EventType.TRANSFER,
            ReportEvent.created_at >= filters.dates.start,
            ReportEvent.created_at < filters.dates.end,
        )
    ).one()
    return Transfers(*row)


# --- Places and ideas -------------------------------------------------------------------------


def hotspots(filters: StatsFilters, limit: int = HOTSPOT_LIMIT) -> list[Hotspot]:
    """Grid cells with at least HOTSPOT_MIN public reports created in the range, busiest
    first: where the same problems keep coming back."""
    size = HOTSPOT_CELLS_PER_DEGREE
    is_open = sa.case((Report.status.in_([str(s) for s in OPEN_STATUSES]), 1), else_=0)
    cells = (
        sa.select(
            sa.cast(sa.func.round(Report.lat * size), sa.Integer).label("row"),
            sa.cast(sa.func.round(Report.lon * size), sa.Integer).label("col"),
            is_open.label("is_open"),
        )
        .where(*filters.created_in_range(), is_public(), Report.lat.is_not(None))
        .subquery("cells")
    )
    count = sa.func.count()
    query = (
        sa.select(cells.c.row, cells.c.col, count, sa.func.sum(cells.c.is_open))
        .group_by(cells.c.row, cells.c.col)
        .having(count >= HOTSPOT_MIN)
        .order_by(count.desc(), cells.c.row, cells.c.col)
        .limit(limit)
    )
    return [
        Hotspot(
            lat=row / size,
            lon=col / size,
            south=(row - 0.5) / size,
            west=(col - 0.5) / size,
            north=(row + 0.5) / size,
            east=(col + 0.5) / size,
            count=n,
            open=open_ or 0,
        )
        for row, col, n, open_ in db.session.execute(query)
    ]


def top_suggestions(
    filters: StatsFilters, locale: str = "fr", limit: int = TOP_SUGGESTIONS
) -> list[SuggestionRow]:
    """The public suggestions created in the range with the most support."""
    query = (
        sa.select(
            Report.reference,
            Category,
            Report.status,
            Report.support_count,
            Report.created_at,
            Report.description,
        )
        .join(Category, Category.id == Report.category_id)
        .where(*filters.created_in_range(), Report.kind == Kind.SUGGESTION, is_public())
        .order_by(Report.support_count.desc(), Report.created_at.desc(), Report.id.desc())
        .limit(limit)
    )
    return [
        SuggestionRow(reference, category.name(locale), status, support, created_at, _summary(text))
        for reference, category, status, support, created_at, text in db.session.execute(query)
    ]


def _summary(text: str, length: int = 140) -> str:
    """The start of a public text, contact details masked, as the public pages show it."""
    text = " ".join(mask_contacts(text).split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"
