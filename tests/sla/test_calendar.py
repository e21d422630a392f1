"""SLA deadlines in the demo city's business hours: Monday to Friday 08:30-17:30 in Paris,
closed on France's public holidays."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tellcity.cities.models import City
from tellcity.sla.calendar import BusinessCalendar

PARIS = ZoneInfo("Europe/Paris")
#: Issy-les-Moulineaux's town hall hours (tellcity/demo/data/issy-les-moulineaux.toml).
DEMO_HOURS = {str(day): [["08:30", "17:30"]] for day in range(5)}
WITH_LUNCH = {str(day): [["08:30", "12:00"], ["13:30", "17:30"]] for day in range(5)}
EVERY_DAY = {str(day): [["08:30", "17:30"]] for day in range(7)}


def paris(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


@pytest.fixture
def issy() -> BusinessCalendar:
    return BusinessCalendar("Europe/Paris", DEMO_HOURS, "FR", None)


def assert_utc(moment: datetime) -> None:
    assert moment.tzinfo is UTC


def test_a_morning_report_is_due_the_same_afternoon(issy):
    due_at = issy.add_business_hours(paris(2026, 3, 10, 10), 4)  # a Tuesday

    assert due_at == paris(2026, 3, 10, 14)
    assert_utc(due_at)


def test_a_friday_afternoon_report_is_due_on_monday(issy):
    # 1.5 h on Friday until 17:30, then 2.5 h from 08:30 on Monday.
    assert issy.add_business_hours(paris(2026, 3, 13, 16), 4) == paris(2026, 3, 16, 11)


def test_a_report_at_night_counts_from_the_next_opening(issy):
    assert issy.add_business_hours(paris(2026, 3, 10, 22), 2) == paris(2026, 3, 11, 10, 30)


def test_a_report_early_in_the_morning_counts_from_the_opening(issy):
    assert issy.add_business_hours(paris(2026, 3, 11, 6, 15), 1) == paris(2026, 3, 11, 9, 30)


def test_a_saturday_report_counts_from_monday_morning(issy):
    assert issy.add_business_hours(paris(2026, 3, 14, 11), 1) == paris(2026, 3, 16, 9, 30)


@pytest.mark.parametrize(
    ("start", "due_at"),
    [
        # Bastille Day, Tuesday 14 July: Monday's 1.5 h, then Wednesday.
        (paris(2026, 7, 13, 16), paris(2026, 7, 15, 11)),
        # Armistice, Wednesday 11 November.
        (paris(2026, 11, 10, 16), paris(2026, 11, 12, 11)),
        # 1 May is a Friday in 2026: Thursday, then a long weekend.
        (paris(2026, 4, 30, 16), paris(2026, 5, 4, 11)),
        # Easter Monday, 6 April: Friday, then Tuesday.
        (paris(2026, 4, 3, 16), paris(2026, 4, 7, 11)),
    ],
    ids=["bastille-day", "armistice", "labour-day", "easter-monday"],
)
def test_public_holidays_are_skipped(issy, start, due_at):
    assert issy.add_business_hours(start, 4) == due_at


def test_spring_clock_change_over_the_weekend(issy):
    # Clocks go forward on Sunday 29 March 2026: Paris is UTC+1 before, UTC+2 after.
    start = paris(2026, 3, 27, 16)
    assert start.astimezone(UTC) == datetime(2026, 3, 27, 15, tzinfo=UTC)

    due_at = issy.add_business_hours(start, 4)

    assert due_at == datetime(2026, 3, 30, 9, tzinfo=UTC)
    assert due_at == paris(2026, 3, 30, 11)
    assert_utc(due_at)


def test_autumn_clock_change_over_the_weekend(issy):
    # Clocks go back on Sunday 25 October 2026: Paris is UTC+2 before, UTC+1 after.
    start = paris(2026, 10, 23, 16)
    assert start.astimezone(UTC) == datetime(2026, 10, 23, 14, tzinfo=UTC)

    assert issy.add_business_hours(start, 4) == datetime(2026, 10, 26, 10, tzinfo=UTC)


@pytest.mark.parametrize("sunday", [paris(2026, 3, 29, 0), paris(2026, 10, 25, 0)])
def test_a_day_of_clock_change_keeps_its_wall_clock_hours(sunday):
    every_day = BusinessCalendar("Europe/Paris", EVERY_DAY, "FR", None)

    assert every_day.add_business_hours(sunday, 9) == sunday.replace(hour=17, minute=30)
    assert every_day.business_hours_between(sunday, sunday + timedelta(days=1)) == 9


def test_round_the_clock_counts_real_hours_on_the_day_clocks_go_forward():
    always = BusinessCalendar("Europe/Paris", {str(d): [["00:00", "24:00"]] for d in range(7)})

    day_of_23_hours = always.business_hours_between(paris(2026, 3, 29, 0), paris(2026, 3, 30, 0))

    assert day_of_23_hours == 23


def test_the_lunch_break_is_skipped():
    with_lunch = BusinessCalendar("Europe/Paris", WITH_LUNCH, "FR", None)

    assert with_lunch.add_business_hours(paris(2026, 3, 10, 11), 2) == paris(2026, 3, 10, 14, 30)
    assert with_lunch.add_business_hours(paris(2026, 3, 10, 12, 30), 1) == paris(
        2026, 3, 10, 14, 30
    )
    assert with_lunch.business_hours_between(paris(2026, 3, 10, 8), paris(2026, 3, 10, 20)) == 7.5


def test_a_forty_hour_target_over_a_week_with_a_holiday(issy):
    # Monday 9 h, Tuesday 14 July closed, Wednesday to Friday 27 h, then 4 h on Monday.
    due_at = issy.add_business_hours(paris(2026, 7, 13, 8, 30), 40)

    assert due_at == paris(2026, 7, 20, 12, 30)


def test_business_hours_between_counts_only_opening_hours(issy):
    assert issy.business_hours_between(paris(2026, 3, 13, 16), paris(2026, 3, 16, 11)) == 4
    assert issy.business_hours_between(paris(2026, 7, 13, 0), paris(2026, 7, 16, 0)) == 18
    assert issy.business_hours_between(paris(2026, 3, 14, 9), paris(2026, 3, 15, 18)) == 0


def test_business_hours_between_is_zero_when_the_end_is_not_after_the_start(issy):
    tuesday = paris(2026, 3, 10, 10)

    assert issy.business_hours_between(tuesday, tuesday) == 0
    assert issy.business_hours_between(tuesday, tuesday - timedelta(days=2)) == 0


@pytest.mark.parametrize("hours", [DEMO_HOURS, WITH_LUNCH])
def test_business_hours_between_undoes_add_business_hours(hours):
    calendar = BusinessCalendar("Europe/Paris", hours, "FR", None)
    # Every 5 h 17 min from early March to mid-May: nights, weekends, both Easter holidays,
    # 1 and 8 May, and the spring clock change.
    starts = [paris(2026, 3, 2, 0) + timedelta(minutes=317 * n) for n in range(350)]
    targets = [0, 0.25, 1, 3.5, 4, 8.75, 9, 40, 123.4]

    for start in starts:
        for target in targets:
            due_at = calendar.add_business_hours(start, target)
            assert due_at >= start
            assert calendar.business_hours_between(start, due_at) == pytest.approx(target)


def test_zero_hours_inside_opening_hours_is_the_start(issy):
    assert issy.add_business_hours(paris(2026, 3, 10, 10, 17), 0) == paris(2026, 3, 10, 10, 17)
    assert issy.add_business_hours(paris(2026, 3, 10, 8, 30), 0) == paris(2026, 3, 10, 8, 30)


def test_zero_hours_outside_opening_hours_is_the_next_opening(issy):
    assert issy.add_business_hours(paris(2026, 3, 10, 22), 0) == paris(2026, 3, 11, 8, 30)
    assert issy.add_business_hours(paris(2026, 3, 10, 17, 30), 0) == paris(2026, 3, 11, 8, 30)
    assert issy.add_business_hours(paris(2026, 3, 14, 10), 0) == paris(2026, 3, 16, 8, 30)


def test_a_start_in_any_zone_gives_a_utc_deadline(issy):
    new_york = datetime(2026, 3, 10, 4, tzinfo=ZoneInfo("America/New_York"))  # 09:00 in Paris

    due_at = issy.add_business_hours(new_york, 1)

    assert due_at == paris(2026, 3, 10, 10)
    assert_utc(due_at)


def test_a_naive_datetime_is_refused(issy):
    naive = datetime(2026, 3, 10, 10)

    with pytest.raises(ValueError, match="naive"):
        issy.add_business_hours(naive, 4)
    with pytest.raises(ValueError, match="naive"):
        issy.business_hours_between(naive, paris(2026, 3, 11, 10))
    with pytest.raises(ValueError, match="naive"):
        issy.sla_deadlines(naive, 4)


@pytest.mark.parametrize("hours", [-1, -0.01, float("nan"), float("inf")])
def test_a_negative_or_non_finite_target_is_refused(issy, hours):
    with pytest.raises(ValueError, match="finite number >= 0"):
        issy.add_business_hours(paris(2026, 3, 10, 10), hours)


def test_a_calendar_without_holiday_country_works_on_holidays():
    no_holidays = BusinessCalendar("Europe/Paris", DEMO_HOURS, None, None)

    assert no_holidays.add_business_hours(paris(2026, 7, 14, 10), 2) == paris(2026, 7, 14, 12)
    assert no_holidays.add_business_hours(paris(2026, 7, 13, 16), 4) == paris(2026, 7, 14, 11)


def test_a_holiday_subdivision_adds_its_own_holidays():
    # Good Friday (3 April 2026) is a holiday in Moselle only.
    moselle = BusinessCalendar("Europe/Paris", DEMO_HOURS, "FR", "57")

    assert moselle.add_business_hours(paris(2026, 4, 2, 16), 4) == paris(2026, 4, 7, 11)


def test_at_risk_is_when_eighty_percent_of_the_target_is_used(issy):
    at_risk_at, due_at = issy.sla_deadlines(paris(2026, 3, 10, 8, 30), 10)

    assert at_risk_at == paris(2026, 3, 10, 16, 30)
    assert due_at == paris(2026, 3, 11, 9, 30)
    assert_utc(at_risk_at)
    assert_utc(due_at)


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({"0": [["17:30", "08:30"]]}, "does not close after it opens"),
        ({"0": [["8h30", "17:30"]]}, "not a time of day"),
        ({"0": [["08:30", "24:30"]]}, "not a time of day"),
        ({"7": [["08:30", "17:30"]]}, "weekday"),
    ],
)
def test_malformed_business_hours_are_refused(hours, message):
    with pytest.raises(ValueError, match=message):
        BusinessCalendar("Europe/Paris", hours)


def test_an_unknown_zone_or_holiday_calendar_is_refused():
    with pytest.raises(ValueError, match="time zone"):
        BusinessCalendar("Europe/Atlantis", DEMO_HOURS)
    with pytest.raises(ValueError, match="holiday calendar"):
        BusinessCalendar("Europe/Paris", DEMO_HOURS, "FR", "Atlantis")


def test_a_calendar_that_never_opens_gives_no_deadline():
    closed = BusinessCalendar("Europe/Paris", {})

    with pytest.raises(ValueError, match="no opening hours"):
        closed.add_business_hours(paris(2026, 3, 10, 10), 1)
    assert closed.business_hours_between(paris(2026, 3, 1, 0), paris(2026, 4, 1, 0)) == 0


def city(**fields) -> City:
    """A city in memory only, as the calendar sees it."""
    defaults = {"timezone": "Europe/Paris", "business_hours": DEMO_HOURS, "holiday_country": "FR"}
    return City(**{**defaults, "holiday_subdivision": None, **fields})


def test_for_city_shares_one_calendar_per_configuration():
    calendar = BusinessCalendar.for_city(city())

    assert BusinessCalendar.for_city(city(business_hours=dict(DEMO_HOURS))) is calendar
    assert BusinessCalendar.for_city(city(business_hours=WITH_LUNCH)) is not calendar
    assert BusinessCalendar.for_city(city(holiday_country=None)) is not calendar
    assert BusinessCalendar.for_city(city(timezone="Europe/Brussels")) is not calendar


def test_for_city_follows_an_edited_configuration():
    issy = city(business_hours={"0": [["08:30", "17:30"]]})
    monday = paris(2026, 3, 9, 17)
    assert BusinessCalendar.for_city(issy).add_business_hours(monday, 1) == paris(2026, 3, 16, 9)

    issy.business_hours = {"0": [["08:30", "17:30"]], "1": [["08:30", "17:30"]]}

    assert BusinessCalendar.for_city(issy).add_business_hours(monday, 1) == paris(2026, 3, 10, 9)
