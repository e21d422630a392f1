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


def tune_for_statistics() -> None:
    """PostgreSQL, for the rest of the transaction: sorts of a year of values in memory, and
    no JIT compilation, which costs more than it saves on these short aggregations."""
    if dialect() == "postgresql":
        db.session.execute(sa.text("SET LOCAL work_mem = '64MB'"))
        db.session.execute(sa.text("SET LOCAL jit = off"))


def seconds_between(earlier, later):
    """An SQL expression for the seconds from `earlier` to `later` (a float; to the
    millisecond on SQLite, whose julianday() keeps milliseconds)."""
    if dialect() == "postgresql":  # date_part is float8; EXTRACT would be a slower numeric
        return sa.func.date_part("epoch", later - earlier, type_=sa.Float)
    return sa.func.round((sa.func.julianday(later) - sa.func.julianday(earlier)) * 86400.0, 3)


def floor_of(expression):
    """SQL: the largest integer not above `expression`, the same on both databases (a cast
    truncates on SQLite and rounds on PostgreSQL; SQLite may lack floor())."""
    if dialect() == "postgresql":
        return sa.cast(sa.func.floor(expression), sa.Integer)
    truncated = sa.cast(expression, sa.Integer)
    return truncated - sa.case((expression < truncated, 1), else_=0)


@dataclass(frozen=True)
class Spread:
    """How long something took across a group: how many values, their median and their 90th
    percentile (None when there are no values)."""

    count: int = 0
    median: float | None = None
    p90: float | None = None


Key = tuple[str, int | None]


def spreads(values, groupings: tuple[str, ...] = ()) -> dict[Key, Spread]:
    """The Spread of the `value` column of `values` (a subquery) over all its rows, key
    ("all", None), and over each group of each of its columns named in `groupings`, key
    (column, group), e.g. ("department_id", 3).

    The median is statistics.median's: the middle value, or the mean of the two middle ones.
    The 90th percentile interpolates linearly between the two nearest ranks, at rank
    1 + 0.9 (n - 1): statistics.quantiles(method="inclusive")'s ninth decile, PostgreSQL's
    percentile_cont(0.9). Both are computed in the database, which sends back a few rows per
    group."""
    if dialect() == "postgresql":
        return spreads_by_percentile_cont(values, groupings)
    return spreads_by_rank(values, groupings)


def spreads_by_percentile_cont(values, groupings: tuple[str, ...] = ()) -> dict[Key, Spread]:
    """PostgreSQL: the ordered-set aggregate percentile_cont, over GROUPING SETS so that one
    scan serves every grouping (each group's values are still sorted)."""
    columns = [values.c[name] for name in groupings]
    fractions = postgresql.array([0.5, 0.9], type_=sa.Float)
    aggregates = (sa.func.count(), sa.func.percentile_cont(fractions).within_group(values.c.value))
    if not columns:
        count, percentiles = db.session.execute(sa.select(*aggregates)).one()
        return {("all", None): Spread(count, *percentiles)} if count else {}
    sets = sa.func.grouping_sets(sa.tuple_(), *(sa.tuple_(column) for column in columns))
    query = sa.select(sa.func.grouping(*columns), *columns, *aggregates).group_by(sets)
    found = {}
    for absent, *keys, count, percentiles in db.session.execute(query):
        if not count:  # the empty grouping set of no rows at all
            continue
        # GROUPING() has a bit set for each column left out of the row's grouping set.
        present = [i for i in range(len(columns)) if not absent & (1 << (len(columns) - 1 - i))]
        key = (groupings[present[0]], keys[present[0]]) if present else ("all", None)
        found[key] = Spread(count, *percentiles)
    return found


def spreads_by_rank(values, groupings: tuple[str, ...] = ()) -> dict[Key, Spread]:
    """Any database with window functions (SQLite >= 3.25, PostgreSQL): number the values in
    order over all rows and within each group (one window per grouping, one scan), and read
    back only the rows at the ranks the medians and percentiles need."""
    windows = [("all", None)] + [(name, values.c[name]) for name in groupings]
    numbered = []
    for index, (_name, column) in enumerate(windows):
        partition = {"partition_by": column} if column is not None else {}
        numbered += [
            sa.func.row_number().over(order_by=values.c.value, **partition).label(f"rank{index}"),
            sa.func.count().over(**partition).label(f"n{index}"),
        ]
    keys = [values.c[name] for name in groupings]
    ranked = sa.select(*keys, values.c.value, *numbered).subquery("ranked")
    wanted = sa.or_(
        *(_is_needed(ranked.c[f"rank{i}"], ranked.c[f"n{i}"]) for i in range(len(windows)))
    )
    found: dict[Key, tuple[int, dict[int, float]]] = {}
    for row in db.session.execute(sa.select(ranked).where(wanted)).mappings():
        for index, (name, _column) in enumerate(windows):
            rank, n = row[f"rank{index}"], row[f"n{index}"]
            if rank in _needed_ranks(n):
                key = ("all", None) if index == 0 else (name, row[name])
                found.setdefault(key, (n, {}))[1][rank] = row["value"]
    return {group: _spread(count, ranks) for group, (count, ranks) in found.items()}


def _is_needed(rank, n):
    """SQL: whether a value's rank is one the median or the 90th percentile reads."""
    decile = (9 * (n - 1)) // 10
    return rank.in_([(n + 1) // 2, n // 2 + 1, decile + 1, decile + 2])


def _needed_ranks(n: int) -> set[int]:
    decile = 9 * (n - 1) // 10
    return {(n + 1) // 2, n // 2 + 1, decile + 1, decile + 2}


def _spread(n: int, ranks: dict[int, float]) -> Spread:
    """A Spread from the values at the needed (1-based) ranks, with statistics' arithmetic."""
    low, high = ranks[(n + 1) // 2], ranks[n // 2 + 1]
    median = low if n % 2 else (low + high) / 2
    j, delta = divmod(9 * (n - 1), 10)
    below = ranks[j + 1]
    p90 = below if delta == 0 else (below * (10 - delta) + ranks[j + 2] * delta) / 10
    return Spread(n, median, p90)
