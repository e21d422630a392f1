"""Local date ranges: their bounds in UTC, the period before, buckets, and the offsets a
database without time zones shifts timestamps by."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from tellcity.stats.periods import (
    DateRange,
    bucket_start,
    buckets,
    month_range,
    months_before,
    utc_offsets,
)
from tests.stats.helpers import utc

PARIS = "Europe/Paris"


def test_bounds_are_local_midnights_in_utc():
    march = DateRange(date(2025, 3, 1), date(2025, 3, 31), PARIS)
    assert march.start == utc(2025, 2, 28, 23)  # UTC+1
    assert march.end == utc(2025, 3, 31, 22)  # UTC+2 since the 30th
    assert march.days == 31
    assert march.previous() == DateRange(date(2025, 1, 29), date(2025, 2, 28), PARIS)


def test_months_weeks_and_default_periods():
    assert month_range(date(2024, 2, 17), PARIS) == DateRange(
        date(2024, 2, 1), date(2024, 2, 29), PARIS
    )
    assert bucket_start(date(2025, 3, 9), "week") == date(2025, 3, 3)  # a Sunday: its Monday
    assert bucket_start(date(2025, 3, 9), "month") == date(2025, 3, 1)
    spring = DateRange(date(2025, 3, 1), date(2025, 5, 31), PARIS)
    assert buckets(spring, "month") == [date(2025, 3, 1), date(2025, 4, 1), date(2025, 5, 1)]
    assert spring.default_period() == "day"
    assert DateRange(date(2024, 1, 1), date(2024, 12, 31), PARIS).default_period() == "week"
    assert DateRange(date(2020, 1, 1), date(2024, 12, 31), PARIS).default_period() == "month"


def test_offsets_change_to_the_minute():
    start, end = utc(2025, 1, 1), utc(2026, 1, 1)
    assert utc_offsets(ZoneInfo(PARIS), start, end) == [
        (start, 3600),
        (utc(2025, 3, 30, 1), 7200),
        (utc(2025, 10, 26, 1), 3600),
    ]
    # Lord Howe Island moves by half an hour, at 02:00 local time.
    howe = utc_offsets(ZoneInfo("Australia/Lord_Howe"), utc(2025, 3, 1), utc(2025, 5, 1))
    assert [offset for _, offset in howe] == [39600, 37800]
    assert howe[1][0] == utc(2025, 4, 5, 15)
    assert utc_offsets(ZoneInfo("UTC"), start, start + timedelta(days=400)) == [(start, 0)]


def test_months_before():
    assert months_before(date(2025, 3, 15), 0) == date(2025, 3, 1)
    assert months_before(date(2025, 3, 31), 11) == date(2024, 4, 1)
    assert months_before(date(2025, 1, 31), 1) == date(2024, 12, 1)
    assert months_before(date(2025, 12, 1), 24) == date(2023, 12, 1)
