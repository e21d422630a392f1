"""The figures of March 2025 in the demo city (the `march` fixture), worked out by hand and with
Python's statistics module, on SQLite and PostgreSQL."""

import statistics
from datetime import date

import pytest

from tests.stats.helpers import DAY, HOUR, POPULATION, row, stats

MARCH = (date(2025, 3, 1), date(2025, 3, 31))


@pytest.fixture
def month(march, demo_city):
    return stats(demo_city, *MARCH)


def test_received_closed_and_duplicates(month):
    # Created in March: a b c d e h i; closed in March: a (3rd), f (4th), e (6th), d (25th) —
    # h was resolved on the 11th but is open again since its reporter reopened it.
    assert month.totals.received == 7
    assert month.totals.closed == 4
    assert month.totals.duplicates == 1


def test_backlog_at_the_end_of_the_range_and_its_ages(month):
    # Open at midnight on 1 April, Paris time: b c h i, and j from December; not g (April).
    assert month.totals.backlog == 5
    # i is 14 h old; b c h three to four weeks; j four months.
    assert month.totals.backlog_ages == [1, 0, 3, 0, 1]


def test_time_to_acknowledge(month):
    # a 1 h, b 3 h, d 2 h, e 1 h (closing as a duplicate acknowledges), h 4 h; c and i never.
    spread = month.totals.time_to_acknowledge
    seconds = [h * 3600 for h in (1, 3, 2, 1, 4)]
    assert spread.count == 5
    assert spread.median == pytest.approx(statistics.median(seconds)) == 7200
    assert spread.p90 == pytest.approx(statistics.quantiles(seconds, n=10, method="inclusive")[8])


def test_time_to_close(month):
    seconds = [s.total_seconds() for s in (5 * HOUR, 1 * HOUR, 20 * DAY, 12 * DAY)]
    spread = month.totals.time_to_close
    assert spread.count == 4
    # An even count: the mean of the two middle values, 5 hours and 12 days.
    assert spread.median == pytest.approx(statistics.median(seconds))
    assert spread.median == pytest.approx((5 * 3600 + 12 * 86400) / 2)
    assert spread.p90 == pytest.approx(statistics.quantiles(seconds, n=10, method="inclusive")[8])


def test_sla_compliance(month):
    # a (5 h) and e (1 h) in time; d (20 days) and f (12 days) late.
    assert (month.totals.closed_with_deadline, month.totals.closed_on_time) == (4, 2)
    assert month.totals.sla_compliance == 0.5


def test_reopen_and_confirmed_fix_rates(month):
    # Resolved in March and still resolved: a, d, f (h was reopened by its reporter); a's
    # reporter confirmed the fix.
    assert (month.outcomes.resolved, month.outcomes.reopened, month.outcomes.confirmed) == (3, 1, 1)
    assert month.outcomes.reopen_rate == 1 / 4
    assert month.outcomes.confirmed_fix_rate == 1 / 3


def test_transfers(month):
    assert (month.transfers.count, month.transfers.reports) == (1, 1)


def test_by_department_with_durations(month):
    # b now belongs to proprete, where it was transferred.
    voirie = row(month.departments, "voirie")
    assert (voirie.figures.received, voirie.figures.closed, voirie.figures.backlog) == (4, 2, 4)
    assert voirie.figures.time_to_close.median == pytest.approx(
        statistics.median([5 * 3600, 12 * 86400])
    )
    lighting = row(month.departments, "eclairage")
    assert (lighting.figures.received, lighting.figures.closed, lighting.figures.backlog) == (
        2,
        2,
        0,
    )
    assert lighting.figures.time_to_acknowledge.median == pytest.approx(1.5 * 3600)
    assert lighting.figures.sla_compliance == 0.5
    cleaning = row(month.departments, "proprete")
    assert (cleaning.figures.received, cleaning.figures.backlog) == (1, 1)
    assert (
        cleaning.figures.time_to_close.count == 0 and cleaning.figures.time_to_close.median is None
    )


def test_by_category_and_top_categories(month):
    potholes = row(month.categories, "pothole")
    assert (potholes.figures.received, potholes.figures.closed) == (5, 2)
    ack = [h * 3600 for h in (1, 3, 4)]
    assert potholes.figures.time_to_acknowledge.median == pytest.approx(statistics.median(ack))
    assert potholes.figures.time_to_acknowledge.p90 == pytest.approx(
        statistics.quantiles(ack, n=10, method="inclusive")[8]
    )
    assert [(top.code, top.figures.received) for top in month.top_categories] == [
        ("pothole", 5),
        ("street-light", 2),
    ]


def test_by_zone_per_1000_inhabitants(month):
    centre, riverside = row(month.zones, "centre-ville"), row(month.zones, "val-de-seine")
    assert (centre.figures.received, riverside.figures.received) == (6, 1)
    assert centre.population == POPULATION["centre-ville"]
    assert centre.per_1000(centre.figures.received) == pytest.approx(6 * 1000 / 16800)
    # riverside: c is open, f (closed in March) was filed in February.
    assert riverside.per_1000(riverside.figures.backlog) == pytest.approx(1000 / 15200)
    assert riverside.per_1000(riverside.figures.closed) == pytest.approx(1000 / 15200)


def test_series_per_day_week_and_month(march, demo_city):
    days = {
        p.start.day: (p.received, p.closed) for p in stats(demo_city, *MARCH, period="day").series
    }
    assert len(days) == 31
    assert {day: counts for day, counts in days.items() if counts != (0, 0)} == {
        3: (1, 1),
        4: (1, 1),
        5: (2, 0),
        6: (1, 1),
        10: (1, 0),
        25: (0, 1),
        31: (1, 0),
    }
    weeks = stats(demo_city, *MARCH, period="week").series
    assert [(p.start, p.received, p.closed) for p in weeks] == [
        (date(2025, 2, 24), 0, 0),
        (date(2025, 3, 3), 5, 3),
        (date(2025, 3, 10), 1, 0),
        (date(2025, 3, 17), 0, 0),
        (date(2025, 3, 24), 0, 1),
        (date(2025, 3, 31), 1, 0),
    ]
    quarter = stats(demo_city, date(2025, 1, 1), date(2025, 3, 31), period="month").series
    assert [(p.start.month, p.received, p.closed) for p in quarter] == [
        (1, 0, 0),
        (2, 1, 0),
        (3, 7, 4),
    ]


def test_previous_period_headline(month):
    # 29 January to 28 February: f was filed; nothing closed; f and j open at its end.
    previous = month.previous
    assert (previous.received, previous.closed, previous.backlog) == (1, 0, 2)
    assert previous.median_time_to_close is None and previous.sla_compliance is None
    headline = month.headline
    assert (headline.received, headline.closed, headline.backlog) == (7, 4, 5)
    assert headline.confirmed_fix_rate == 1 / 3


def test_an_empty_range_has_zeros_and_no_rates(march, demo_city):
    empty = stats(demo_city, date(2023, 6, 1), date(2023, 6, 30))
    assert (empty.totals.received, empty.totals.closed) == (0, 0)
    assert empty.totals.sla_compliance is None and empty.outcomes.reopen_rate is None
    assert empty.totals.time_to_close.median is None
    assert empty.departments == [] and empty.hotspots == []
