"""The SQL that differs between SQLite and PostgreSQL: the local day of a timestamp, the seconds
between two timestamps, and the median and 90th percentile of grouped values.

Timestamps are `UTCDateTime` columns: timestamptz on PostgreSQL, naive UTC text on SQLite.
"""

from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from tellcity.core.db import UTCDateTime
from tellcity.extensions import db
from tellcity.stats.periods import utc_offsets


def dialect() -> str:
    return db.session.get_bind().dialect.name


def local_day(column, timezone: str, start: datetime, end: datetime):
    """An SQL expression for the local calendar day of `column` (a timestamp in [start, end)).

    PostgreSQL converts with AT TIME ZONE. SQLite knows no time zones: the zone's offsets over
    the range are worked out in Python and the timestamp shifted by the one in force, which is
    exact across daylight saving changes."""
    if dialect() == "postgresql":
        return sa.cast(sa.func.timezone(timezone, column), sa.Date)
    offsets = utc_offsets(ZoneInfo(timezone), start, end)

    def shifted(offset: int):
        return sa.func.date(column, f"{offset:+d} seconds")

    if len(offsets) == 1:
        return shifted(offsets[0][1])
    # Each offset holds until the next change: CASE WHEN column < change THEN shift by it ...
    changes = [
        (column < sa.literal(change, UTCDateTime()), shifted(offset))
        for (_, offset), (change, _) in pairwise(offsets)
    ]
    return sa.case(*changes, else_=shifted(offsets[-1][1]))


def as_date(value) -> date:
    """A local day as read back: a date on PostgreSQL, ISO text on SQLite."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def seconds_between(earlier, later):
    """An SQL expression for the seconds from `earlier` to `later` (a float; to the
    millisecond on SQLite, whose julianday() keeps milliseconds)."""
    if dialect() == "postgresql":
        return sa.cast(sa.extract("epoch", later - earlier), sa.Float)
    return sa.func.round((sa.func.julianday(later) - sa.func.julianday(earlier)) * 86400.0, 3)


@dataclass(frozen=True)
class Spread:
    """How long something took across a group: how many values, their median and their 90th
    percentile (None when there are no values)."""

    count: int = 0
    median: float | None = None
    p90: float | None = None


def spreads(values) -> dict[tuple[str, int | None], Spread]:
    """The Spread of each group of `values`, a subquery of (grouping, key, value) rows, by
    (grouping, key).

    The median is statistics.median's: the middle value, or the mean of the two middle ones.
    The 90th percentile interpolates linearly between the two nearest ranks, at rank
    1 + 0.9 (n - 1): statistics.quantiles(method="inclusive")'s ninth decile, PostgreSQL's
    percentile_cont(0.9). Both are computed in the database; at most four rows per group come
    back."""
    if dialect() == "postgresql":
        return spreads_by_percentile_cont(values)
    return spreads_by_rank(values)


def spreads_by_percentile_cont(values) -> dict[tuple[str, int | None], Spread]:
    """PostgreSQL: the ordered-set aggregate percentile_cont, one sort per group."""
    fractions = postgresql.array([0.5, 0.9], type_=sa.Float)
    query = sa.select(
        values.c.grouping,
        values.c.key,
        sa.func.count(),
        sa.func.percentile_cont(fractions).within_group(values.c.value),
    ).group_by(values.c.grouping, values.c.key)
    return {
        (grouping, key): Spread(count, median, p90)
        for grouping, key, count, (median, p90) in db.session.execute(query)
    }


def spreads_by_rank(values) -> dict[tuple[str, int | None], Spread]:
    """Any database with window functions (SQLite >= 3.25, PostgreSQL): number the values of
    each group in order, and read only the ranks the median and the percentile need."""
    group = (values.c.grouping, values.c.key)
    ranked = sa.select(
        *group,
        values.c.value,
        sa.func.row_number().over(partition_by=group, order_by=values.c.value).label("rank"),
        sa.func.count().over(partition_by=group).label("n"),
    ).subquery("ranked")
    n, rank = ranked.c.n, ranked.c.rank
    decile = (9 * (n - 1)) // 10
    wanted = sa.or_(
        rank == (n + 1) // 2, rank == n // 2 + 1, rank == decile + 1, rank == decile + 2
    )
    query = sa.select(ranked.c.grouping, ranked.c.key, n, rank, ranked.c.value).where(wanted)
    found: dict[tuple[str, int | None], tuple[int, dict[int, float]]] = {}
    for grouping, key, count, position, value in db.session.execute(query):
        found.setdefault((grouping, key), (count, {}))[1][position] = value
    return {group: _spread(count, ranks) for group, (count, ranks) in found.items()}


def _spread(n: int, ranks: dict[int, float]) -> Spread:
    """A Spread from the values at the needed (1-based) ranks, with statistics' arithmetic."""
    low, high = ranks[(n + 1) // 2], ranks[n // 2 + 1]
    median = low if n % 2 else (low + high) / 2
    j, delta = divmod(9 * (n - 1), 10)
    below = ranks[j + 1]
    p90 = below if delta == 0 else (below * (10 - delta) + ranks[j + 2] * delta) / 10
    return Spread(n, median, p90)
