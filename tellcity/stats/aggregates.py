"""The statistics read from the per-day aggregates (tellcity.stats.daily keeps them): the counts
per cell, the backlog by age, the medians and 90th percentiles, the time series, without
reading the reports of the range. tellcity.stats.queries reads the same figures from the
reports themselves (`raw=True`), the reference the tests and the benchmark compare with.

Exact: durations are kept to the millisecond (the precision of SQLite's julianday(), which
the raw computation reads; PostgreSQL's raw durations have microseconds, and differ by less
than half a millisecond when timestamps have them). The backlog's ages are exact: the few
local days an age bound falls in are read from the reports. The medians and percentiles read
the counts per band of durations, then the durations of the bands their ranks fall in only."""

from datetime import date, datetime, timedelta

import sqlalchemy as sa

from tellcity.extensions import db
from tellcity.reports.models import Report
from tellcity.reports.states import OPEN_STATUSES
from tellcity.stats import daily, sql
from tellcity.stats.figures import AGE_BUCKETS, Figures
from tellcity.stats.models import stats_daily, stats_duration_bands, stats_durations
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

    Exact without reading every duration: the counts per band (stats_duration_bands, by
    month; the days of a month the range covers in part, from stats_durations) give the band
    each needed rank falls in, and its rank there; then only those bands' durations of the
    range are read, in order (through the index that starts with the band)."""
    columns = {"department": 0, "category": 1}

    def keys(department, category) -> list[tuple]:
        cell = (department, category)
        return [("all", None)] + [(g, cell[columns[g]] or None) for g in groupings]

    histograms: dict[tuple, dict[int, int]] = {}
    for department, category, band, count in db.session.execute(_band_counts(filters, measure)):
        for key in keys(department, category):
            bands = histograms.setdefault(key, {})
            bands[band] = bands.get(band, 0) + count
    sizes, needs = {}, {}  # needs: (key, band) -> [(rank in the band, rank), ...]
    for key, bands in histograms.items():
        n = sizes[key] = sum(bands.values())
        if not n:
            continue
        ranks = sorted({min(rank, n) for rank in sql._needed_ranks(n)})  # (n + 1 > n: unread)
        below, ordered = 0, iter(sorted(bands.items()))
        band, count = next(ordered)
        for rank in ranks:
            while below + count < rank:
                below += count
                band, count = next(ordered)
            needs.setdefault((key, band), []).append((rank - below, rank))
    if not needs:
        return {}
    bands = sorted({band for _, band in needs})
    read = {"all": set(), "department": set(), "category": set()}  # (group, band) pairs
    for (grouping, group), band in needs:
        read[grouping].add(band if grouping == "all" else (group or 0, band))
    pairs = [H.band.in_(sorted(read["all"]))] if read["all"] else []
    for grouping, column in (("department", H.department_id), ("category", H.category_id)):
        if read[grouping]:
            pairs.append(sa.tuple_(column, H.band).in_(sorted(read[grouping])))
    query = (
        sa.select(H.department_id, H.category_id, H.band, H.milliseconds, H["count"])
        .where(H.measure == measure, *_in_range(stats_durations, filters), H["count"] != 0)
        .where(H.band.in_(bands), sa.or_(*pairs))
        .order_by(H.milliseconds)
    )
    values: dict[tuple, dict[int, float]] = {}
    seen: dict[tuple, int] = {}
    for department, category, band, milliseconds, count in db.session.execute(query):
        for key in keys(department, category):
            wanted = needs.get((key, band))
            if not wanted:
                continue
            seen[(key, band)] = total = seen.get((key, band), 0) + count
            while wanted and wanted[0][0] <= total:
                values.setdefault(key, {})[wanted.pop(0)[1]] = milliseconds / 1000
    return {key: sql._spread(sizes[key], ranks) for key, ranks in values.items()}


def _band_counts(filters, measure: int):
    """(department, category, band, count) of the durations of `measure` in the selection:
    the whole months of the range from stats_duration_bands, the other days from
    stats_durations."""
    B, first, last = stats_duration_bands.c, filters.dates.first, filters.dates.last
    start = first if first.day == 1 else _next_month(first)
    after = last + timedelta(days=1)
    end = after if after.day == 1 else last.replace(day=1)
    parts = [
        sa.select(H.department_id, H.category_id, H.band, H["count"]).where(
            H.measure == measure, *_scope(stats_durations, filters), days
        )
        for days in (
            [sa.and_(H.day >= first, H.day <= last)]
            if start >= end
            else [
                sa.and_(H.day >= first, H.day < start),
                sa.and_(H.day >= end, H.day <= last),
            ]
        )
    ]
    if start < end:
        parts.append(
            sa.select(B.department_id, B.category_id, B.band, B["count"]).where(
                B.measure == measure,
                *_scope(stats_duration_bands, filters),
                B.month >= start,
                B.month < end,
            )
        )
    rows = sa.union_all(*parts).subquery("bands")
    group = (rows.c.department_id, rows.c.category_id, rows.c.band)
    total = sa.func.sum(rows.c["count"])
    return sa.select(*group, total).group_by(*group).having(total != 0)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


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
