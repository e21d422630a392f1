"""Medians and 90th percentiles computed in the database agree with Python's statistics module:
statistics.median, and statistics.quantiles(n=10, method="inclusive")[8] for the 90th
percentile, on odd and even counts, ties, a single value, on both databases."""

import random
import statistics
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tellcity.extensions import db
from tellcity.stats.sql import spreads, spreads_by_percentile_cont, spreads_by_rank
from tests.stats.helpers import DAY, HOUR, RIVERSIDE, move, report, row, stats, utc


def expected_p90(values: list[float]) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[8]


def generated_rows(seed: int) -> list[tuple[int, int, float]]:
    """(size, kind, value) rows: for each size of 1 to 13, that many whole seconds (ties
    likely), fractions of a second, and durations of up to 40 days."""
    rng = random.Random(seed)
    draws = {
        1: lambda: float(rng.choice((3600, 7200, 7200, 86400))),
        2: lambda: rng.uniform(0, 1000),
        3: lambda: float(rng.randint(60, 40 * 86400)),
    }
    rows = [(size, kind, draw()) for size in range(1, 14) for kind, draw in draws.items()]
    rows += [
        (size, kind, draw())
        for size in range(2, 14)
        for kind, draw in draws.items()
        for _ in range(size - 1)
    ]
    rng.shuffle(rows)
    return rows


def as_subquery(rows: list[tuple[int, int, float]]):
    selects = [
        sa.select(
            sa.literal(size).label("size"),
            sa.literal(kind).label("kind"),
            sa.literal(value, sa.Float).label("value"),
        )
        for size, kind, value in rows
    ]
    return sa.union_all(*selects).subquery("generated")


def expected(rows) -> dict:
    """statistics' figures over all the values and by each column."""
    groups: dict = {("all", None): [value for *_, value in rows]}
    for size, kind, value in rows:
        groups.setdefault(("size", size), []).append(value)
        groups.setdefault(("kind", kind), []).append(value)
    return groups


def check(found, groups) -> None:
    assert set(found) == set(groups)
    for group, values in groups.items():
        spread = found[group]
        assert spread.count == len(values), group
        assert spread.median == pytest.approx(statistics.median(values), rel=1e-12), group
        assert spread.p90 == pytest.approx(expected_p90(values), rel=1e-12), group


def test_the_database_agrees_with_statistics_on_generated_data(app):
    rows = generated_rows(seed=92040)
    check(spreads(as_subquery(rows), ("size", "kind")), expected(rows))


def test_ranks_agree_with_statistics_on_either_database(app):
    """The window-function way (SQLite's) also runs on PostgreSQL, and agrees."""
    rows = generated_rows(seed=7)
    check(spreads_by_rank(as_subquery(rows), ("size", "kind")), expected(rows))


def test_percentile_cont_agrees_with_statistics(app):
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("percentile_cont is PostgreSQL's")
    rows = generated_rows(seed=11)
    check(spreads_by_percentile_cont(as_subquery(rows), ("size", "kind")), expected(rows))
    alone = spreads_by_percentile_cont(as_subquery(rows))
    assert list(alone) == [("all", None)]


def test_median_by_hand_for_odd_and_even_counts(app):
    rows = [
        (1, 0, 5.0),
        (1, 0, 1.0),
        (1, 0, 3.0),
        (2, 0, 4.0),
        (2, 0, 1.0),
        (2, 0, 3.0),
        (2, 0, 2.0),
    ]
    found = spreads(as_subquery(rows), ("size",))
    assert found[("size", 1)].median == 3.0
    assert found[("size", 2)].median == 2.5
    # rank 1 + 0.9 * 3 = 3.7: 3 + 0.7 * (4 - 3)
    assert found[("size", 2)].p90 == pytest.approx(3.7)
    assert found[("all", None)].median == 3.0


def test_time_to_close_of_real_reports_by_category(demo_city, staff):
    """Reports closed after random delays: per category (7 potholes, 10 graffiti, 1 street
    light) and overall, the page's figures are statistics' figures."""
    rng = random.Random(2025)
    admin, durations = staff["admin"], {"pothole": [], "graffiti": [], "street-light": []}
    start = utc(2025, 5, 5, 7)
    for index, (code, count) in enumerate((("pothole", 7), ("graffiti", 10), ("street-light", 1))):
        for number in range(count):
            created = start + index * DAY + number * HOUR
            delay = rng.randint(600, 9 * 86400)
            filed = report(demo_city, code, at=RIVERSIDE, created=created)
            move(filed, "resolved", admin, created + timedelta(seconds=delay))
            durations[code].append(float(delay))
    db.session.commit()
    may = stats(demo_city, utc(2025, 5, 1).date(), utc(2025, 5, 31).date())
    for code, values in durations.items():
        spread = row(may.categories, code).figures.time_to_close
        assert (spread.count, spread.median) == (
            len(values),
            pytest.approx(statistics.median(values)),
        )
        assert spread.p90 == pytest.approx(expected_p90(values))
    everything = [value for values in durations.values() for value in values]
    assert may.totals.time_to_close.median == pytest.approx(statistics.median(everything))
    assert may.totals.time_to_close.p90 == pytest.approx(expected_p90(everything))
