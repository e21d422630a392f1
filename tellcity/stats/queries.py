"""The statistics of a city over a range of local dates, with optional department, category,
zone and kind filters: the one query layer the pages, their exports and `GET /api/v1/stats`
read. Everything is aggregated in the database (GROUP BY over indexed columns); Python only
adds up aggregated rows (per (department, category, zone) cell, per day), never one row per
report.

The counts, durations and time series are read from the per-day aggregates
(tellcity.stats.aggregates); with `raw=True`, from the reports themselves, as before them: the
reference the tests and bench/stats.py compare the aggregates with. Transfers, reopenings,
hotspots and the top suggestions are read from the reports (and their events) either way.

What each figure means is in tellcity.stats.definitions, shown on the pages and returned by
the API."""

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import cached_property

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from tellcity.categories.models import Category
from tellcity.cities.models import City, Zone
from tellcity.core.db import utcnow
from tellcity.core.errors import Invalid
from tellcity.core.params import id_param
from tellcity.core.text import mask_contacts
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.reports.models import Report, ReportEvent
from tellcity.reports.queries import is_public
from tellcity.reports.states import OPEN_STATUSES, EventType, Kind, Status
from tellcity.stats import aggregates
from tellcity.stats.figures import (
    AGE_BUCKETS,
    TOP_CATEGORIES,
    Figures,
    GroupRow,
    Headline,
    Hotspot,
    Outcomes,
    SeriesPoint,
    SuggestionRow,
    Transfers,
    as_plain,
    from_plain,
)
from tellcity.stats.periods import (
    DEFAULT_DAYS,
    MAX_DAYS,
    DateRange,
    bucket_start,
    buckets,
    last_days,
    local_today,
)
from tellcity.stats.sql import (
    as_date,
    dialect,
    floor_of,
    local_day,
    seconds_between,
    spreads,
    tune_for_statistics,
)

#: A hotspot is a cell of 0.001° of latitude by 0.001° of longitude (about 110 m by 75 m in
#: France) holding at least HOTSPOT_MIN reports.
HOTSPOT_CELLS_PER_DEGREE = 1000
HOTSPOT_MIN = 3
HOTSPOT_LIMIT = 20
TOP_SUGGESTIONS = 10
#: Tables of figures, by the column of Report that groups them.
GROUPINGS = {
    "department": Report.department_id,
    "category": Report.category_id,
    "zone": Report.zone_id,
}
#: The columns of Report a (department, category, zone) cell is made of.
CELL = tuple(GROUPINGS.values())
#: The groups durations are given for (besides the whole selection): each percentile costs a
#: sort of the group's values.
DURATION_GROUPINGS = ("department", "category")
OPEN = [str(status) for status in OPEN_STATUSES]
RESOLVED = [str(Status.RESOLVED), str(Status.DONE)]


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
    #: Public reports only (neither hidden nor rejected), as the public lists and the open
    #: data show them: the figures of the public statistics page.
    is_public: bool = False

    def scope(self) -> list:
        """The conditions on Report every figure shares."""
        conditions = [Report.city_id == self.city.id]
        if self.is_public:
            conditions.append(is_public())
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

    def cache_key(self) -> str:
        """These filters as one canonical string (ids, not names, which may change): the
        statistics kept for one are never served for another."""
        parts = {
            "from": self.dates.first.isoformat(),
            "to": self.dates.last.isoformat(),
            "period": self.period,
            "department": self.department and self.department.id,
            "category": self.category and self.category.id,
            "zone": self.zone and self.zone.id,
            "kind": self.kind,
        }
        key = "&".join(f"{name}={'' if value is None else value}" for name, value in parts.items())
        return key + "&public=1" if self.is_public else key

    def created_in_range(self) -> list:
        """The conditions on the reports of the selection created in the range.

        On SQLite, when neither a department nor a category narrows them, the range is given on
        (city_id, created_at) together: only that index can read it then. Otherwise, with
        ANALYZE's statistics, SQLite skip-scans (department_id, status, created_at) or
        (category_id, status, created_at) across every department or category, which visits
        the table's pages in no order: twice as slow, for a year at a million reports, as
        reading them in the order reports are created and written."""
        start, end = self.dates.start, self.dates.end
        if dialect() == "sqlite" and self.department is None and self.category is None:
            key = sa.tuple_(Report.city_id, Report.created_at)
            return [*self.scope(), key >= (self.city.id, start), key < (self.city.id, end)]
        return [*self.scope(), Report.created_at >= start, Report.created_at < end]

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
    is_public: bool = False,
) -> StatsFilters:
    """The filters of a request: local dates (by default the last 30 days up to today, or 30
    days from `first` or up to `last` when only one is given), a department, category or zone
    of the city by id, slug or code, a kind and a period (by default one that suits the
    range's length); with `is_public`, public reports only.

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
        is_public=is_public,
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
    if first.year < 1900 or last.year > 2999:
        raise Invalid(_("Dates from 1900 to 2999, please."), code="invalid_date", field="from")
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
    if (row_id := id_param(value)) is not None:
        found = db.session.get(model, row_id)
        found = found if found is not None and found.city_id == city.id else None
    else:
        found = db.session.scalar(
            sa.select(model).where(model.city_id == city.id, code_column == value)
        )
    if found is None:
        unknown = {
            "department": _("This city has no such department."),
            "category": _("This city has no such category."),
            "zone": _("This city has no such zone."),
        }
        raise Invalid(unknown[name], code="unknown_" + name, field=name)
    return found


def city_department(city: City, department_id: int) -> Department | None:
    """The department `department_id` if it is one of `city`'s, else None."""
    found = db.session.get(Department, department_id)
    return found if found is not None and found.city_id == city.id else None


def filter_choices(city: City) -> dict[str, list]:
    """What the statistics' filter form offers: the city's departments (by name), categories
    (in their order) and zones (by name)."""

    def rows(model, order):
        return db.session.scalars(
            sa.select(model).where(model.city_id == city.id).order_by(order)
        ).all()

    return {
        "departments": rows(Department, Department.name),
        "categories": rows(Category, Category.position),
        "zones": rows(Zone, Zone.name),
    }


class Overview:
    """Every figure of a selection, each read from the database the first time it is asked
    for: a page reads them all, an export only its table's. The backlog is counted at the end
    of the range, or `now` when the range ends later; `previous` is the headline of the
    period before.

    `to_document()` gives the figures as JSON-ready data, and `Overview(filters, now=when,
    document=...)` the same figures back without a query: tellcity.stats.services keeps them
    so. Names (of departments, categories, zones) are not in the document: they are read in
    the reader's language when a table is made."""

    #: Changes when the document's shape does, so that older documents are not read.
    DOCUMENT_VERSION = 1

    def __init__(
        self,
        filters: StatsFilters,
        *,
        locale: str = "fr",
        now: datetime | None = None,
        document: dict | None = None,
        raw: bool = False,
    ):
        """The figures of `filters`, computed at `now` (by default, now); or those of
        `document`, computed at `now`. With `raw`, read from the reports rather than the
        per-day aggregates."""
        self.filters, self.locale, self.raw = filters, locale, raw
        if document is None:
            tune_for_statistics()
        else:
            self.__dict__.update(_restored(document))
        #: When the figures were computed: the backlog of a range ending later is as of then.
        self.now = self.computed_at = now or utcnow()
        self.as_of = min(filters.dates.end, self.now)

    def to_document(self) -> dict:
        """Every figure (read now, those not read yet) as data `json` can write."""
        return {
            "version": self.DOCUMENT_VERSION,
            "figures": [[*key, as_plain(figures)] for key, figures in self._figures.items()],
            "reopened": self._reopened,
            "transfers": as_plain(self.transfers),
            "series": as_plain(self.series),
            "hotspots": as_plain(self.hotspots),
            "suggestions": as_plain(self._suggestions),
            "previous": as_plain(self.previous),
        }

    @cached_property
    def _figures(self) -> dict:
        return group_figures(
            self.filters, self.now, tuple(GROUPINGS), DURATION_GROUPINGS, raw=self.raw
        )

    @cached_property
    def _labels(self) -> dict:
        return _names(self.filters.city, self.locale)

    @property
    def totals(self) -> Figures:
        return self._figures[("all", None)]

    @cached_property
    def _reopened(self) -> int:
        return reopened(self.filters)

    @cached_property
    def outcomes(self) -> Outcomes:
        totals = self.totals
        return Outcomes(totals.resolved, self._reopened, totals.confirmed)

    @cached_property
    def transfers(self) -> Transfers:
        return transfers(self.filters)

    @cached_property
    def series(self) -> list[SeriesPoint]:
        return series(self.filters, raw=self.raw)

    @cached_property
    def departments(self) -> list[GroupRow]:
        return _rows(self._figures, "department", self._labels)

    @cached_property
    def categories(self) -> list[GroupRow]:
        return _rows(self._figures, "category", self._labels)

    @cached_property
    def zones(self) -> list[GroupRow]:
        return _rows(self._figures, "zone", self._labels)

    @cached_property
    def hotspots(self) -> list[Hotspot]:
        return hotspots(self.filters)

    @cached_property
    def _suggestions(self) -> list[SuggestionRow]:
        return top_suggestions(self.filters)

    @cached_property
    def suggestions(self) -> list[SuggestionRow]:
        """The top suggestions, with their category's name in the reader's language."""
        return [
            replace(row, category=self._labels.get(("category", row.category_id), ("", ""))[1])
            for row in self._suggestions
        ]

    @cached_property
    def previous(self) -> Headline:
        return headline(self.filters.previous(), now=self.now, raw=self.raw)

    @property
    def headline(self) -> Headline:
        return Headline.of(self.totals)

    @property
    def top_categories(self) -> list[GroupRow]:
        busiest = sorted(self.categories, key=lambda row: (-row.figures.received, row.name))
        return [row for row in busiest if row.figures.received][:TOP_CATEGORIES]


def overview(
    filters: StatsFilters, *, locale: str = "fr", now: datetime | None = None, raw: bool = False
) -> Overview:
    """Every figure of `filters`' selection (read as they are asked for), computed afresh:
    readers take tellcity.stats.services.statistics, which keeps them a few minutes."""
    return Overview(filters, locale=locale, now=now, raw=raw)


def _restored(document: dict) -> dict:
    """The attributes of an Overview its document gives back (see Overview.to_document)."""
    return {
        "_figures": {
            (grouping, key): from_plain(Figures, figures)
            for grouping, key, figures in document["figures"]
        },
        "_reopened": document["reopened"],
        "transfers": from_plain(Transfers, document["transfers"]),
        "series": [from_plain(SeriesPoint, point) for point in document["series"]],
        "hotspots": [from_plain(Hotspot, hotspot) for hotspot in document["hotspots"]],
        "_suggestions": [from_plain(SuggestionRow, row) for row in document["suggestions"]],
        "previous": from_plain(Headline, document["previous"]),
    }


def headline(filters: StatsFilters, *, now: datetime | None = None, raw: bool = False) -> Headline:
    """The headline figures of one period alone (for the period a page compares with): totals
    only, so that no group is formed and the count of reports received is read from the
    index (city_id, created_at) alone where the database can."""
    tune_for_statistics()
    now = now or utcnow()
    if not raw:
        totals = aggregates.cell_counts(filters, min(filters.dates.end, now), now, cell=()).get(
            (), Figures()
        )
        spread = aggregates.spreads(filters, aggregates.MEASURES["time_to_close"])
        totals.time_to_close = spread.get(("all", None), totals.time_to_close)
        return Headline.of(totals)
    totals = Figures()
    totals.received = db.session.scalar(
        sa.select(sa.func.count()).where(*filters.created_in_range())
    )
    closed = sa.select(*_closed_counts()).where(*filters.closed_in_range())
    _set_closed(totals, *db.session.execute(closed).one())
    for _age, count in _backlog_by_age(filters, min(filters.dates.end, now), now, cell=()):
        totals.backlog += count
    values = _close_times(filters).subquery("durations")
    totals.time_to_close = spreads(values).get(("all", None), totals.time_to_close)
    return Headline.of(totals)


# --- Counts and durations per group ----------------------------------------------------------

Key = tuple[str, int | None]


def group_figures(
    filters: StatsFilters,
    now: datetime,
    groupings: tuple[str, ...] = (),
    duration_groupings: tuple[str, ...] = (),
    durations: tuple[str, ...] = ("time_to_acknowledge", "time_to_close"),
    *,
    raw: bool = False,
) -> dict[Key, Figures]:
    """Figures of the whole selection, key ("all", None), and of each group of `groupings`,
    key ("department", id)... Counts come from three queries grouped by (department,
    category, zone) cell, added up here; each of `durations` (for the whole selection and the
    groups of `duration_groupings`) from one query. The backlog is the one at the end of the
    range, or `now` if sooner."""
    figures: dict[Key, Figures] = {("all", None): Figures()}
    as_of = min(filters.dates.end, now)
    if not raw:
        cells = aggregates.cell_counts(filters, as_of, now)
    else:
        cells = _cell_counts(filters, as_of, now)
    for cell, counts in cells.items():
        figures[("all", None)].add(counts)
        for index, grouping in enumerate(GROUPINGS):
            if grouping in groupings:
                figures.setdefault((grouping, cell[index]), Figures()).add(counts)
    columns = tuple(GROUPINGS[name].key for name in duration_groupings)
    for attribute in durations:
        if not raw:
            measure = aggregates.MEASURES[attribute]
            found = aggregates.spreads(filters, measure, duration_groupings).items()
        else:
            values = DURATIONS[attribute](filters).subquery("durations")
            found = spreads(values, columns).items()
        for (column, key), spread in found:
            grouping = "all" if column == "all" else column.removesuffix("_id")
            setattr(figures.setdefault((grouping, key), Figures()), attribute, spread)
    return figures


def _cell_counts(filters: StatsFilters, as_of: datetime, now: datetime) -> dict[tuple, Figures]:
    """Counts per (department, category, zone) cell: received and duplicates among them;
    closed, with a deadline, on time, resolved, confirmed; backlog by age."""
    cells: dict[tuple, Figures] = {}

    def at(cell) -> Figures:
        return cells.setdefault(tuple(cell), Figures())

    for *cell, received, duplicates, closed_undated in _grouped(
        filters.created_in_range(),
        sa.func.count(),
        _count_if(Report.status == Status.DUPLICATE),
        _count_if(sa.and_(Report.status.not_in(OPEN), Report.closed_at.is_(None))),
    ):
        figures = at(cell)
        figures.received, figures.duplicates, figures.closed_undated = (
            received,
            duplicates,
            closed_undated,
        )
    for *cell, closed, with_deadline, on_time, resolved, confirmed in _grouped(
        filters.closed_in_range(), *_closed_counts()
    ):
        _set_closed(at(cell), closed, with_deadline, on_time, resolved, confirmed)
    for *cell, age, count in _backlog_by_age(filters, as_of, now):
        at(cell).backlog += count
        at(cell).backlog_ages[age] += count
    return cells


def _closed_counts() -> list:
    """The aggregates of closed reports: how many, with a deadline, closed by it, resolved,
    resolved and confirmed (see _set_closed)."""
    return [
        sa.func.count(),
        sa.func.count(Report.due_at),
        _count_if(Report.closed_at <= Report.due_at),
        _count_if(Report.status.in_(RESOLVED)),
        _count_if(sa.and_(Report.status.in_(RESOLVED), Report.confirmed_at.is_not(None))),
    ]


def _set_closed(figures: Figures, closed, with_deadline, on_time, resolved, confirmed) -> None:
    figures.closed, figures.resolved, figures.confirmed = closed, resolved, confirmed
    figures.closed_with_deadline, figures.closed_on_time = with_deadline, on_time


def _count_if(condition):
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _grouped(conditions: list, *aggregates):
    """Rows of (department, category, zone, *aggregates) of the reports meeting `conditions`."""
    return db.session.execute(sa.select(*CELL, *aggregates).where(*conditions).group_by(*CELL))


def _age(as_of: datetime):
    """SQL: the backlog age bucket of a report at `as_of`."""
    return sa.case(
        *[
            (Report.created_at > as_of - timedelta(days=upper), index)
            for index, (_, upper) in enumerate(AGE_BUCKETS)
            if upper is not None
        ],
        else_=len(AGE_BUCKETS) - 1,
    ).label("age")


def backlog_rows(filters: StatsFilters, as_of: datetime, conditions: list, cell: tuple = CELL):
    """(*cell, age bucket at `as_of`, count) rows of the selection's reports meeting
    `conditions` (the aggregates' backlog reads its few exact parts so)."""
    age = _age(as_of)
    query = sa.select(*cell, age, sa.func.count()).where(*filters.scope(), *conditions)
    return [tuple(row) for row in db.session.execute(query.group_by(*cell, age))]


def _backlog_by_age(filters: StatsFilters, as_of: datetime, now: datetime, cell: tuple = CELL):
    """(*cell, age bucket, count) rows of the reports open at `as_of` (cell: the department,
    category and zone by default; nothing for totals): open now, or (when `as_of` is past)
    closed since. Two parts, each read through its own index, rather than one OR."""
    age = _age(as_of)
    if as_of < now:
        before = [*filters.scope(), Report.created_at < as_of]
        parts = [
            sa.select(*cell, age).where(*before, Report.status.in_(OPEN)),
            sa.select(*cell, age).where(*before, Report.closed_at >= as_of),
        ]
    else:  # open now: nothing was created after now, so the status says it all
        parts = [sa.select(*cell, age).where(*filters.scope(), Report.status.in_(OPEN))]
    rows = sa.union_all(*parts).subquery("backlog")
    keys = [rows.c[column.key] for column in cell]
    return db.session.execute(
        sa.select(*keys, rows.c.age, sa.func.count()).group_by(*keys, rows.c.age)
    )


def _acknowledge_times(filters: StatsFilters):
    return sa.select(
        *GROUPINGS.values(),
        seconds_between(Report.created_at, Report.acknowledged_at).label("value"),
    ).where(*filters.created_in_range(), Report.acknowledged_at.is_not(None))


def _close_times(filters: StatsFilters):
    return sa.select(
        *GROUPINGS.values(),
        seconds_between(Report.created_at, Report.closed_at).label("value"),
    ).where(*filters.closed_in_range())


DURATIONS = {"time_to_acknowledge": _acknowledge_times, "time_to_close": _close_times}


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


def series(filters: StatsFilters, *, raw: bool = False) -> list[SeriesPoint]:
    """Received and closed per day, week or month (filters.period) of the range, zeros
    included. The database counts per local day; days are added up into weeks and months
    here (at most one row per day of the range)."""
    if not raw:
        received, closed = aggregates.per_day(filters)
    else:
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


def reopened(filters: StatsFilters) -> int:
    """Reports their reporter reopened in the range (each counted once)."""
    return _events(filters, EventType.REOPEN)[1]


def transfers(filters: StatsFilters) -> Transfers:
    """Transfer events in the range, and the reports they moved."""
    return Transfers(*_events(filters, EventType.TRANSFER))


def _events(filters: StatsFilters, event_type: str) -> tuple[int, int]:
    """How many events of `event_type` the selection's reports had in the range, and on how
    many reports."""
    return db.session.execute(
        sa.select(sa.func.count(), sa.func.count(sa.distinct(ReportEvent.report_id)))
        .join(Report, Report.id == ReportEvent.report_id)
        .where(
            *filters.scope(),
            ReportEvent.type == event_type,
            ReportEvent.created_at >= filters.dates.start,
            ReportEvent.created_at < filters.dates.end,
        )
    ).one()


# --- Places and ideas -------------------------------------------------------------------------


def hotspots(filters: StatsFilters, limit: int = HOTSPOT_LIMIT) -> list[Hotspot]:
    """Grid cells with at least HOTSPOT_MIN public reports created in the range, busiest
    first: where the same problems keep coming back."""
    size = HOTSPOT_CELLS_PER_DEGREE
    is_open = sa.case((Report.status.in_(OPEN), 1), else_=0)
    cells = (
        sa.select(
            floor_of(Report.lat * size + 0.5).label("row"),  # the nearest multiple of 0.001°
            floor_of(Report.lon * size + 0.5).label("col"),
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


def top_suggestions(filters: StatsFilters, limit: int = TOP_SUGGESTIONS) -> list[SuggestionRow]:
    """The public suggestions created in the range with the most support, their category by
    id only (Overview.suggestions names it in the reader's language)."""
    query = (
        sa.select(
            Report.reference,
            Report.category_id,
            Report.status,
            Report.support_count,
            Report.created_at,
            Report.description,
        )
        .where(*filters.created_in_range(), Report.kind == Kind.SUGGESTION, is_public())
        .order_by(Report.support_count.desc(), Report.created_at.desc(), Report.id.desc())
        .limit(limit)
    )
    return [
        SuggestionRow(reference, "", status, support, created_at, _summary(text), category_id)
        for reference, category_id, status, support, created_at, text in db.session.execute(query)
    ]


def _summary(text: str, length: int = 140) -> str:
    """The start of a public text, contact details masked, as the public pages show it."""
    text = " ".join(mask_contacts(text).split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"
