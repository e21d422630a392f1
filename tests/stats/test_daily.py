"""The per-day aggregates (tellcity.stats.daily) against the reports they sum up: on random
histories made through the real services (submissions, status moves, reopenings, transfers,
merges, rejections, moderation) and on an import, every figure read from the aggregates
equals the one read from the reports (`raw=True`), for every filter the pages offer, over a
range ending now and one ending in the past; and what the writes kept equals what
`rebuild` makes from the reports."""

import csv
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tellcity.cities.models import City
from tellcity.core.errors import Invalid, NotAllowed
from tellcity.core.permissions import Actor
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.reports import services
from tellcity.reports.lifecycle import REASON_CODES, next_statuses
from tellcity.reports.states import Status
from tellcity.staff.services import hide_report
from tellcity.stats import daily, queries
from tellcity.stats.aggregates import spread_of
from tellcity.stats.models import stats_daily, stats_duration_bands, stats_durations
from tests.stats.helpers import CENTRE, HEIGHTS, RIVERSIDE, move, report, utc

CODES = ("pothole", "graffiti", "street-light", "idea-mobility")
PLACES = (CENTRE, RIVERSIDE, HEIGHTS, None)
START = utc(2025, 3, 20, 6)  # Paris changes to summer time on 30 March: days of 23 hours

step = st.one_of(
    st.tuples(
        st.just("submit"),
        st.sampled_from(CODES),
        st.sampled_from(PLACES),
        st.integers(0, 3 * 86400),
    ),
    st.tuples(st.just("move"), st.integers(0, 50), st.integers(0, 20), st.integers(0, 5 * 86400)),
    st.tuples(st.just("transfer"), st.integers(0, 50), st.sampled_from(("voirie", "proprete"))),
    st.tuples(st.just("hide"), st.integers(0, 50)),
)


def _play(city, staff, steps) -> object:
    """Play `steps` from START; returns the moment after the last."""
    admin = Actor.of(staff["admin"])
    reports, clock = [], START
    for action, *args in steps:
        if action == "submit":
            code, place, later = args
            clock += timedelta(seconds=later)
            if place is None and not code.startswith("idea-"):
                place = CENTRE  # a problem needs a place; an idea may have none (no zone)
            reports.append(report(city, code, at=place, created=clock))
            continue
        if not reports:
            continue
        target = reports[args[0] % len(reports)]
        try:
            if action == "move":
                choice, later = args[1], args[2]
                moves = sorted(next_statuses(target) - {Status.REFERRED})
                to = moves[choice % len(moves)]
                clock += timedelta(seconds=later)
                original = next((r for r in reports if r is not target), None)
                move(
                    target,
                    to,
                    staff["admin"],
                    clock,
                    reason=REASON_CODES[to][0] if to in REASON_CODES else None,
                    duplicate_of=original if to == Status.DUPLICATE else None,
                )
            elif action == "transfer":
                department = db.session.scalar(
                    sa.select(Department).where(
                        Department.city_id == city.id, Department.slug == args[1]
                    )
                )
                services.transfer(target, department, admin, "Pas chez nous.")
            else:
                hide_report(target, admin, "Propos injurieux.", hidden=not target.is_hidden)
            db.session.flush()
        except (Invalid, NotAllowed):  # a move refused: checked before anything changes
            continue
    return clock + timedelta(hours=1)


def _rows(city_id: int) -> tuple[set, ...]:
    """The aggregates of the city, rows that count nothing left out."""
    found = []
    for table, counts in (
        (stats_daily, daily.DAILY_COUNTS),
        (stats_durations, ("count",)),
        (stats_duration_bands, ("count",)),
    ):
        rows = db.session.execute(sa.select(table).where(table.c.city_id == city_id)).all()
        found.append(
            {
                tuple(str(value) for value in row)
                for row in rows
                if any(getattr(row, name) for name in counts)
            }
        )
    return tuple(found)


def same_as_rebuilt(city_id: int) -> None:
    kept = _rows(city_id)
    with db.session.begin_nested() as savepoint:
        daily.rebuild(db.session.connection(), city_id)
        rebuilt = _rows(city_id)
        savepoint.rollback()
    assert kept == rebuilt


def _plain(figures) -> dict:
    """Figures with their durations as approximate numbers (PostgreSQL's percentile_cont and
    the histograms' arithmetic may differ in the last bit)."""
    plain = dict(vars(figures))
    for name in ("time_to_acknowledge", "time_to_close"):
        spread = plain[name]
        plain[name] = (spread.count, pytest.approx(spread.median), pytest.approx(spread.p90))
    return plain


def same_figures(filters, now) -> None:
    from_aggregates = queries.Overview(filters, now=now)
    from_reports = queries.Overview(filters, now=now, raw=True)
    assert set(from_aggregates._figures) == set(from_reports._figures)
    for key, figures in from_reports._figures.items():
        assert _plain(from_aggregates._figures[key]) == _plain(figures), key
    assert from_aggregates.series == from_reports.series
    previous, previous_raw = from_aggregates.previous, from_reports.previous
    assert vars(previous) == {
        **vars(previous_raw),
        "median_time_to_close": pytest.approx(previous_raw.median_time_to_close),
    }


FILTERS = (
    {},
    {"department": "voirie"},
    {"category": "pothole"},
    {"zone": "centre-ville"},
    {"kind": "suggestion"},
    {"zone": "val-de-seine", "kind": "problem", "category": "graffiti"},
    {"is_public": True},
)


@settings(
    max_examples=25,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking takes minutes here
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=1, max_size=30))
def test_random_histories_read_the_same_from_the_aggregates(demo_city, staff, steps):
    try:
        now = _play(demo_city, staff, steps)
        same_as_rebuilt(demo_city.id)
        today = now.astimezone(ZoneInfo(demo_city.timezone)).date()
        for options in FILTERS:
            for first, last in (
                (START.date() - timedelta(days=1), today),  # ends now
                (START.date(), START.date() + timedelta(days=9)),  # ends before now
            ):
                filters = queries.make_filters(
                    demo_city, first=first, last=last, now=now, **options
                )
                same_figures(filters, now)
    finally:
        db.session.rollback()


def test_an_import_reads_the_same_from_the_aggregates(cli, app):
    sample = "tests/imports/data/la_311_sample.csv"
    result = cli.invoke(args=["import-311", sample, "--profile", "la"])
    assert result.exit_code == 0, result.output
    la = db.session.scalar(sa.select(City).where(City.slug == "los-angeles"))
    with open(sample, newline="", encoding="utf-8-sig") as f:
        assert sum(1 for _ in csv.DictReader(f)) > 100
    same_as_rebuilt(la.id)
    now = utc(2026, 1, 1)
    for first, last in ((utc(2017, 1, 1), now), (utc(2019, 6, 1), utc(2020, 5, 31))):
        filters = queries.make_filters(la, first=first.date(), last=last.date(), now=now)
        same_figures(filters, now)


def test_rebuilding_makes_what_the_writes_keep(demo_city, staff):
    """Reports written, then the aggregates made again from them (`rebuild`, the migration's
    backfill): the same rows, across a change of the clocks."""
    filed = report(demo_city, created=utc(2025, 3, 29, 22, 30))  # the night the clocks change
    move(filed, "resolved", staff["admin"], utc(2025, 3, 31, 9, 15) + timedelta(seconds=30.5))
    report(demo_city, "graffiti", at=RIVERSIDE, created=utc(2025, 3, 30, 1, 30))
    kept = _rows(demo_city.id)
    assert all(kept)
    same_as_rebuilt(demo_city.id)


def test_medians_are_exact_to_the_millisecond():
    # 1, 2, 2, 3 seconds and 10 s: median 2 s, 90th percentile 3 + 0.6 * (10 - 3) = 7.2 s.
    spread = spread_of([(1000, 1), (2000, 2), (3000, 1), (10000, 1)])
    assert (spread.count, spread.median, spread.p90) == (5, 2.0, pytest.approx(7.2))
    assert spread_of([(1500, 1), (2501, 1)]).median == pytest.approx(2.0005)


def test_the_rebuild_command_repairs_lost_aggregates(cli, demo_city, staff):
    filed = report(demo_city, created=utc(2025, 3, 3, 8))
    move(filed, "resolved", staff["admin"], utc(2025, 3, 4, 8))
    db.session.commit()
    kept = _rows(demo_city.id)
    db.session.execute(sa.delete(stats_daily))
    db.session.execute(sa.delete(stats_durations))
    db.session.execute(sa.delete(stats_duration_bands))
    db.session.commit()

    result = cli.invoke(args=["stats", "rebuild", "--city", demo_city.slug])

    assert result.exit_code == 0, result.output
    assert f"{demo_city.slug}: rebuilt" in result.output
    db.session.rollback()
    assert _rows(demo_city.id) == kept
    assert cli.invoke(args=["stats", "rebuild", "--city", "nowhere"]).exit_code != 0


def test_percentiles_read_through_the_bands_are_exact_at_the_bands_edges(demo_city, staff):
    """Ten times to acknowledge, most in two bands of durations (tellcity.stats.daily.band),
    each rank the median and the 90th percentile read (5 and 6, 9 and 10) the last of its
    band or the first of the next: the same figures as from the reports, to the millisecond,
    from the whole month's counts per band and from days of months read in part."""
    lower, upper = daily.BOUNDS[70], daily.BOUNDS[71]  # band 71: [lower, upper), about 7 min
    taken = [lower - 900, *[lower - 1] * 4, lower, lower, upper - 1, upper - 1, upper]
    assert len({daily.band(milliseconds) for milliseconds in taken}) == 3
    for index, milliseconds in enumerate(taken):
        created = utc(2025, 4, 10 + index, 9)
        filed = report(demo_city, created=created)
        move(filed, "acknowledged", staff["admin"], created + timedelta(milliseconds=milliseconds))
        resolved = created + timedelta(milliseconds=upper + milliseconds)  # across bands too
        move(filed, "resolved", staff["admin"], resolved)
    now = utc(2025, 6, 1)
    for first, last in ((utc(2025, 4, 1), utc(2025, 4, 30)), (utc(2025, 4, 9), utc(2025, 5, 3))):
        filters = queries.make_filters(demo_city, first=first.date(), last=last.date(), now=now)
        same_figures(filters, now)
        spread = queries.Overview(filters, now=now)._figures[("all", None)].time_to_acknowledge
        assert spread.count == 10
        assert spread.median == pytest.approx((2 * lower - 1) / 2000)  # ranks 5 and 6
        assert spread.p90 == pytest.approx(((upper - 1) * 0.9 + upper * 0.1) / 1000)  # 9, 10
