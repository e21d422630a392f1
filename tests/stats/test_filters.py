"""Filters: department, category, zone, kind and dates — local dates of the city, so that a
report filed at 23:30 UTC in Paris belongs to the next day — and the parameters refused."""

from datetime import date, timedelta

import pytest

from tellcity.core.errors import Invalid
from tellcity.extensions import db
from tellcity.stats import queries
from tellcity.stats.periods import MAX_DAYS, local_today
from tests.reports.helpers import department
from tests.stats.helpers import report, stats, utc

MARCH = (date(2025, 3, 1), date(2025, 3, 31))


def test_department_by_slug_or_id(march, demo_city):
    by_slug = stats(demo_city, *MARCH, department="voirie")
    by_id = stats(demo_city, *MARCH, department=str(department(demo_city, "voirie").id))
    for found in (by_slug, by_id):
        assert (found.totals.received, found.totals.closed, found.totals.backlog) == (4, 2, 4)
        assert [row.code for row in found.departments] == ["voirie"]
    # Its transfer went out with b, now proprete's: filters apply to reports as they are now.
    assert by_slug.transfers.count == 0
    assert stats(demo_city, *MARCH, department="proprete").transfers.count == 1


def test_category(march, demo_city):
    lights = stats(demo_city, *MARCH, category="street-light")
    assert (lights.totals.received, lights.totals.closed, lights.totals.duplicates) == (2, 2, 1)
    assert lights.totals.time_to_close.median == pytest.approx((3600 + 20 * 86400) / 2)


def test_zone(march, demo_city):
    riverside = stats(demo_city, *MARCH, zone="val-de-seine")
    assert (riverside.totals.received, riverside.totals.closed, riverside.totals.backlog) == (
        1,
        1,
        1,
    )
    assert riverside.outcomes.resolved == 1  # f
    assert [row.code for row in riverside.zones] == ["val-de-seine"]


def test_kind(march, demo_city):
    assert stats(demo_city, *MARCH, kind="suggestion").totals.received == 0
    assert stats(demo_city, *MARCH, kind="problem").totals.received == 7


def test_dates_are_local_and_inclusive(march, demo_city):
    day = stats(demo_city, date(2025, 3, 5), date(2025, 3, 5))
    assert (day.totals.received, day.totals.closed) == (2, 0)  # c and d
    assert day.filters.dates.previous().first == date(2025, 3, 4)


def test_late_evening_utc_is_the_next_day_in_paris(demo_city):
    report(demo_city, created=utc(2025, 3, 10, 23, 30))  # 00:30 on the 11th in Paris
    db.session.commit()
    assert stats(demo_city, date(2025, 3, 10), date(2025, 3, 10)).totals.received == 0
    eleventh = stats(demo_city, date(2025, 3, 11), date(2025, 3, 11))
    assert eleventh.totals.received == 1
    assert [(p.start, p.received) for p in eleventh.series] == [(date(2025, 3, 11), 1)]


def test_days_across_the_change_to_summer_time(demo_city):
    """Paris moves from UTC+1 to UTC+2 at 01:00 UTC on 30 March 2025."""
    for moment in (
        utc(2025, 3, 29, 22, 59),  # 23:59 on the 29th
        utc(2025, 3, 29, 23, 30),  # 00:30 on the 30th (UTC+1)
        utc(2025, 3, 30, 21, 30),  # 23:30 on the 30th (UTC+2)
        utc(2025, 3, 30, 22, 30),  # 00:30 on the 31st
    ):
        report(demo_city, created=moment)
    db.session.commit()
    weekend = stats(demo_city, date(2025, 3, 29), date(2025, 3, 31), period="day")
    assert [(p.start.day, p.received) for p in weekend.series] == [(29, 1), (30, 2), (31, 1)]
    assert stats(demo_city, date(2025, 3, 30), date(2025, 3, 30)).totals.received == 2


def test_default_range_is_the_last_30_days(demo_city):
    today = local_today(demo_city.timezone)
    filters = queries.make_filters(demo_city)
    assert (filters.dates.first, filters.dates.last) == (today - timedelta(days=29), today)
    assert filters.period == "day"
    from_only = queries.make_filters(demo_city, first=date(2025, 1, 1))
    assert (from_only.dates.first, from_only.dates.last) == (date(2025, 1, 1), date(2025, 1, 30))
    year = queries.make_filters(demo_city, first=date(2024, 1, 1), last=date(2024, 12, 31))
    assert year.period == "week"


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"first": date(2025, 3, 2), "last": date(2025, 3, 1)}, "to"),
        ({"first": date(2000, 1, 1), "last": date(2000, 1, 1) + timedelta(days=MAX_DAYS)}, "from"),
        ({"department": "nowhere"}, "department"),
        ({"category": "999999"}, "category"),
        ({"zone": "atlantis"}, "zone"),
        ({"first": date(1, 1, 1), "last": date(1, 1, 1)}, "from"),
        ({"department": "99999999999999999999"}, "department"),
    ],
)
def test_nonsense_is_refused(demo_city, options, field):
    with pytest.raises(Invalid) as refused:
        queries.make_filters(demo_city, **options)
    assert refused.value.field == field


def test_the_api_answers_422_to_nonsense(client, login_as, demo_city):
    login_as("cabinet")
    for query, field in (
        ("from=2025-03-02&to=2025-03-01", "to"),
        ("from=yesterday", "from"),
        ("period=fortnight", "period"),
        ("zone=atlantis", "zone"),
    ):
        response = client.get(f"/api/v1/stats?{query}")
        assert response.status_code == 422, query
        assert field in response.json["error"]["fields"], query
