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


def generated_groups(seed: int = 92040) -> dict[tuple[str, int], list[float]]:
    """Groups of 1 to 13 values: whole seconds (with ties), and fractions of a second."""
    rng = random.Random(seed)
    groups = {}
    for size in range(1, 14):
        groups[("whole", size)] = [float(rng.randint(60, 40 * 86400)) for _ in range(size)]
        groups[("ties", size)] = [float(rng.choice((3600, 7200, 7200, 86400))) for _ in range(size)]
        groups[("fractions", size)] = [rng.uniform(0, 1000) for _ in range(size)]
    return groups


def as_subquery(groups: dict[tuple[str, int], list[float]]):
    """The values as (grouping, key, value) rows, in an order unrelated to their rank."""
    rows = [(g, key, value) for (g, key), values in groups.items() for value in values]
    random.Random(1).shuffle(rows)
    selects = [
        sa.select(
            sa.literal(g).label("grouping"),
            sa.literal(key).label("key"),
            sa.literal(value, sa.Float).label("value"),
        )
        for g, key, value in rows
    ]
    return sa.union_all(*selects).subquery("generated")


def check(found, groups) -> None:
    assert set(found) == set(groups)
    for group, values in groups.items():
        spread = found[group]
        assert spread.count == len(values), group
        assert spread.median == pytest.approx(statistics.median(values), rel=1e-12), group
        assert spread.p90 == pytest.approx(expected_p90(values), rel=1e-12), group


def test_the_database_agrees_with_statistics_on_generated_data(app):
    groups = generated_groups()
    check(spreads(as_subquery(groups)), groups)


def test_ranks_agree_with_statistics_on_either_database(app):
    """The window-function way (SQLite's) also runs on PostgreSQL, and agrees."""
    groups = generated_groups(seed=7)
    check(spreads_by_rank(as_subquery(groups)), groups)


def test_percentile_cont_agrees_with_statistics(app):
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("percentile_cont is PostgreSQL's")
    groups = generated_groups(seed=11)
    check(spreads_by_percentile_cont(as_subquery(groups)), groups)


def test_median_by_hand_for_odd_and_even_counts(app):
    groups = {("odd", 1): [5.0, 1.0, 3.0], ("even", 2): [4.0, 1.0, 3.0, 2.0]}
    found = spreads(as_subquery(groups))
    assert found[("odd", 1)].median == 3.0
    assert found[("even", 2)].median == 2.5
    # rank 1 + 0.9 * 3 = 3.7: 3 + 0.7 * (4 - 3)
    assert found[("even", 2)].p90 == pytest.approx(3.7)


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
