"""The statistics read from the per-day aggregates (tellcity.stats.daily keeps them): the counts
per cell, the backlog by age, the medians and 90th percentiles, the time series, without
reading the reports of the range. tellcity.stats.queries reads the same figures from the
reports themselves (`raw=True`), the reference the tests and the benchmark compare with.

Exact: durations are kept to the millisecond (the precision of SQLite's julianday(), which
the raw computation reads; PostgreSQL's raw durations have microseconds, and differ by less
than half a millisecond when timestamps have them). The backlog's ages are exact: the few
local days an age bound falls in are read from the reports."""

from datetime import date, datetime, timedelta

import sqlalchemy as sa

from tellcity.extensions import db
from tellcity.reports.models import Report
from tellcity.reports.states import OPEN_STATUSES
from tellcity.stats import daily, sql
from tellcity.stats.figures import AGE_BUCKETS, Figures
from tellcity.stats.models import stats_daily, stats_durations
from tellcity.stats.periods import local_midnight
from tellcity.stats.sql import Spread, as_date

D, H = stats_daily.c, stats_durations.c
#: The columns of a (department, category, zone) cell, as the aggregates keep it.
CELL = (D.department_id, D.category_id, D.zone_id)
OPEN = [str(status) for status in OPEN_STATUSES]


def _scope(table, filters) -> list:
    """The conditions on an aggregates table that StatsFilters.scope puts on reports."""
    c = table.c
    conditions = [c.city_id == filters.city.id]
    if filters.is_public:
        conditions.append(c.is_public == 1)
    for column, value in (
        (c.department_id, filters.department and filters.department.id),
        (c.category_id, filters.category and filters.category.id),
        (c.zone_id, filters.zone and filters.zone.id),
        (c.kind, filters.kind),
    ):
        if value is not None:
            conditions.append(column == value)
    return conditions


def _in_range(table, filters) -> list:
    dates = filters.dates
    return [*_scope(table, filters), table.c.day >= dates.first, table.c.day <= dates.last]


def _cell(values) -> tuple:
    """A cell as tellcity.stats.queries keys it: no zone is None."""
    department, category, zone = values
    return (department or None, category or None, zone or None)


def cell_counts(filters, as_of: datetime, now: datetime, cell=CELL) -> dict[tuple, Figures]:
    """Counts per (department, category, zone) cell (or of everything, with cell ()): as
    tellcity.stats.queries._cell_counts."""
    cells: dict[tuple, Figures] = {}

    def at(key) -> Figures:
        return cells.setdefault(_cell(key) if key else (), Figures())

    names = ("received", "duplicates", "closed_undated", "closed")
    names += ("closed_with_deadline", "closed_on_time", "resolved", "confirmed")
    query = sa.select(*cell, *(sa.func.sum(D[name]) for name in names)).where(
        *_in_range(stats_daily, filters)
    )
    for row in db.session.execute(query.group_by(*cell) if cell else query):
        key, counts = row[: len(cell)], row[len(cell) :]
        if not any(counts):  # no row, or rows of reports that count elsewhere now
            continue
        figures = at(key)
        for name, count in zip(names, counts, strict=True):
            setattr(figures, name, count or 0)
    for *key, age, count in backlog_by_age(filters, as_of, now, cell):
        at(key).backlog += count
        at(key).backlog_ages[age] += count
    return cells


def backlog_by_age(filters, as_of: datetime, now: datetime, cell=CELL) -> list[tuple]:
    """(*cell, age bucket, count) of the reports open at `as_of`: those open now, counted per
    local day received in the aggregates, but for the local days an age bound falls in, read
    from the reports; and (when `as_of` is past: the end of the range, a local midnight) the
    reports closed since, read from the reports (tellcity.stats.queries's second part)."""
    from tellcity.stats import queries  # the raw parts

    zone = filters.dates.zone
    bounds = [as_of - timedelta(days=upper) for _, upper in AGE_BUCKETS if upper is not None]
    mixed = sorted({bound.astimezone(zone).date() for bound in bounds})
    age = sa.case(
        *[(D.day > bound.astimezone(zone).date(), index) for index, bound in enumerate(bounds)],
        else_=len(AGE_BUCKETS) - 1,
    ).label("age")
    conditions = [*_scope(stats_daily, filters), D.open != 0, D.day.not_in(mixed)]
    if as_of < now:
        conditions.append(D.day < as_of.astimezone(zone).date())
    query = sa.select(*cell, age, sa.func.sum(D.open)).where(*conditions)
    rows = [
        (*_cell(key), age, count) if cell else (age, count)
        for *key, age, count in db.session.execute(query.group_by(*cell, age))
        if count
    ]
    raw_cell = queries.CELL if cell else ()
    days = [
        sa.and_(
            Report.created_at >= local_midnight(day, zone),
            Report.created_at < local_midnight(day + timedelta(days=1), zone),
        )
        for day in mixed
    ]
    open_then = [Report.status.in_(OPEN), sa.or_(*days)]
    if as_of < now:
        open_then.append(Report.created_at < as_of)
    rows += queries.backlog_rows(filters, as_of, open_then, raw_cell)
    if as_of < now:
        closed_since = [Report.created_at < as_of, Report.closed_at >= as_of]
        rows += queries.backlog_rows(filters, as_of, closed_since, raw_cell)
    return rows


def spreads(filters, measure: int, groupings: tuple[str, ...] = ()) -> dict:
    """The Spread of the durations of `measure` over the selection, key ("all", None), and
    over each group of `groupings` ("department", "category"), key ("department", id)...

    PostgreSQL: percentile_cont over the kept durations, each repeated `count` times
    (tellcity.stats.sql.spreads, one scan for every grouping). SQLite: the durations read once
    in order, each group's ranks found by counting (`spread_of`)."""
    if sql.dialect() == "postgresql":
        found = sql.spreads(_durations(filters, measure), tuple(f"{g}_id" for g in groupings))
        return {
            ("all" if column == "all" else column.removesuffix("_id"), key): spread
            for (column, key), spread in found.items()
        }
    query = (
        sa.select(H.department_id, H.category_id, H.milliseconds, H["count"])
        .where(H.measure == measure, *_in_range(stats_durations, filters), H["count"] != 0)
        .order_by(H.milliseconds)
    )
    histograms: dict = {}
    columns = {"department": 0, "category": 1}
    for department, category, value, count in db.session.execute(query):
        cell = (department, category)
        histograms.setdefault(("all", None), []).append((value, count))
        for grouping in groupings:
            key = (grouping, cell[columns[grouping]] or None)
            histograms.setdefault(key, []).append((value, count))
    found = {}
    for key, histogram in histograms.items():
        spread = spread_of(histogram)
        if spread.count:
            found[key] = spread
    return found


def _durations(filters, measure: int):
    """PostgreSQL: the durations of `measure` in the selection, in seconds, one row per
    report (a row of `count` n repeated n times by generate_series)."""
    where = [H.measure == measure, *_in_range(stats_durations, filters)]
    value = (sa.cast(H.milliseconds, sa.Float) / 1000).label("value")
    times = sa.func.generate_series(1, H["count"]).table_valued("i").lateral("times")
    return (
        sa.select(H.department_id, H.category_id, value)
        .select_from(stats_durations)
        .join(times, sa.true())
        .where(*where)
        .subquery("durations")
    )


def spread_of(histogram: list[tuple[int, int]]) -> Spread:
    """The Spread of the durations of (milliseconds, count) pairs in order, in seconds, with
    the arithmetic of tellcity.stats.sql's (statistics.median, the inclusive 90th
    percentile)."""
    n = sum(count for _, count in histogram)
    if not n:
        return Spread()
    decile, delta = divmod(9 * (n - 1), 10)
    ranks = sorted({(n + 1) // 2, n // 2 + 1, decile + 1, min(decile + 2, n)})
    values, seen, wanted = {}, 0, iter(ranks)
    rank = next(wanted)
    for milliseconds, count in histogram:
        seen += count
        while rank is not None and rank <= seen:
            values[rank] = milliseconds / 1000
            rank = next(wanted, None)
    low, high = values[(n + 1) // 2], values[n // 2 + 1]
    median = low if n % 2 else (low + high) / 2
    below = values[decile + 1]
    p90 = below if delta == 0 else (below * (10 - delta) + values[decile + 2] * delta) / 10
    return Spread(n, median, p90)


def per_day(filters) -> tuple[dict[date, int], dict[date, int]]:
    """Received and closed per local day of the range."""
    query = (
        sa.select(D.day, sa.func.sum(D.received), sa.func.sum(D.closed))
        .where(*_in_range(stats_daily, filters))
        .group_by(D.day)
    )
    received, closed = {}, {}
    for day, got, shut in db.session.execute(query):
        day = as_date(day)
        if got:
            received[day] = got
        if shut:
            closed[day] = shut
    return received, closed


MEASURES = {"time_to_acknowledge": daily.ACKNOWLEDGE, "time_to_close": daily.CLOSE}
