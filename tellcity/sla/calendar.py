"""Business-hours arithmetic: when does a target of N working hours fall due in a city?

Opening spans are local wall-clock times. Each day's spans are turned into UTC instants with
zoneinfo, so a 08:30-17:30 span is nine real hours on the days the clocks change too (European
changes happen at night). A public holiday, from the `holidays` package, removes the whole day.
The arithmetic walks day by day over the opening spans, never minute by minute.
"""

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

import holidays

#: Weekday (0 = Monday, as a string in JSON or TOML) → list of [opening, closing] "HH:MM" spans.
BusinessHours = Mapping[str | int, Sequence[Sequence[str]]]
#: An opening span of one day as (opens_at, closes_at), aware UTC instants.
Span = tuple[datetime, datetime]
#: Minutes after local midnight: (opening, closing), closing up to 24:00.
_LocalSpan = tuple[int, int]

#: Share of the target after which a report is at risk of missing its deadline.
AT_RISK_SHARE = 0.8

_MINUTES_PER_DAY = 24 * 60
_ONE_DAY = timedelta(days=1)
_CLOCK = re.compile(r"([0-9]{2}):([0-5][0-9])")
#: Days of UTC spans kept per calendar; years of deadlines fit, and memory stays bounded.
_MAX_CACHED_DAYS = 4096


class CityHours(Protocol):
    """What a calendar needs from a city (a `City` row has it all)."""

    timezone: str
    business_hours: BusinessHours
    holiday_country: str | None
    holiday_subdivision: str | None


class BusinessCalendar:
    """The opening hours and public holidays of one city, and the arithmetic on them.

    Every datetime returned is aware and in UTC; every datetime taken must be aware (any zone).
    """

    def __init__(
        self,
        timezone: str,
        business_hours: BusinessHours,
        holiday_country: str | None = None,
        holiday_subdivision: str | None = None,
    ):
        """Raise ValueError for an unknown zone or holiday calendar, or malformed hours."""
        self.zone = _zone(timezone)
        self.week = _parse_week(business_hours)
        self.holiday_country = holiday_country
        self.holiday_subdivision = holiday_subdivision
        _check_holiday_calendar(holiday_country, holiday_subdivision)
        self._holidays_by_year: dict[int, frozenset[date]] = {}
        self._spans_by_day: dict[date, tuple[Span, ...]] = {}

    @classmethod
    def for_city(cls, city: CityHours) -> "BusinessCalendar":
        """The calendar of `city`, cached per process by its configuration (so an edited
        configuration gets a new calendar, never a stale one)."""
        key = (
            city.timezone,
            _freeze(city.business_hours),
            city.holiday_country,
            city.holiday_subdivision,
        )
        calendar = _CALENDARS.get(key)
        if calendar is None:
            calendar = _CALENDARS[key] = cls(
                city.timezone, city.business_hours, city.holiday_country, city.holiday_subdivision
            )
        return calendar

    def __repr__(self) -> str:
        holidays_of = "/".join(filter(None, [self.holiday_country, self.holiday_subdivision]))
        return f"<BusinessCalendar {self.zone.key} holidays={holidays_of or None}>"

    @property
    def has_opening_hours(self) -> bool:
        """Whether any weekday has an opening span at all."""
        return any(self.week)

    def is_holiday(self, day: date) -> bool:
        """Whether the local calendar `day` is a public holiday (each year loaded on first use)."""
        if self.holiday_country is None:
            return False
        year = self._holidays_by_year.get(day.year)
        if year is None:
            year = self._holidays_by_year[day.year] = frozenset(
                holidays.country_holidays(
                    self.holiday_country, subdiv=self.holiday_subdivision, years=day.year
                )
            )
        return day in year

    def spans_on(self, day: date) -> tuple[Span, ...]:
        """The opening spans of the local calendar `day` as UTC instants, earliest first."""
        spans = self._spans_by_day.get(day)
        if spans is None:
            if len(self._spans_by_day) >= _MAX_CACHED_DAYS:
                self._spans_by_day.clear()
            spans = self._spans_by_day[day] = self._utc_spans(day)
        return spans

    def add_business_hours(self, start: datetime, hours: float) -> datetime:
        """The instant at which `hours` business hours have elapsed after `start`.

        A start outside opening hours counts from the next opening, so zero hours gives `start`
        inside opening hours and the next opening outside them. Raises ValueError for a naive
        `start`, negative or non-finite `hours`, or a calendar that never opens.
        """
        start = _as_utc(start)
        if not (math.isfinite(hours) and hours >= 0):
            raise ValueError(f"business hours must be a finite number >= 0, not {hours!r}")
        if not self.has_opening_hours:
            raise ValueError(f"{self!r} has no opening hours: no deadline would ever come")
        remaining = timedelta(hours=hours)
        for opens_at, closes_at in self._spans_from(start):
            begin = max(opens_at, start)
            if remaining <= closes_at - begin:
                return begin + remaining
            remaining -= closes_at - begin
        raise AssertionError("unreachable: _spans_from never ends")  # pragma: no cover

    def business_hours_between(self, start: datetime, end: datetime) -> float:
        """The business hours elapsed from `start` to `end`: 0 if `end` is not after `start`.

        Raises ValueError for a naive datetime.
        """
        start, end = _as_utc(start), _as_utc(end)
        total = timedelta()
        day, last_day = self._local_date(start), self._local_date(end)
        while start < end and day <= last_day:
            for opens_at, closes_at in self.spans_on(day):
                overlap = min(closes_at, end) - max(opens_at, start)
                total += max(overlap, timedelta())
            day += _ONE_DAY
        return total / timedelta(hours=1)

    def sla_deadlines(self, start: datetime, hours: float) -> tuple[datetime, datetime]:
        """(at_risk_at, due_at): when 80 % of a target of `hours` business hours is used, and
        when all of it is. Raises ValueError as `add_business_hours` does."""
        at_risk_at = self.add_business_hours(start, AT_RISK_SHARE * hours)
        return at_risk_at, self.add_business_hours(start, hours)

    def _spans_from(self, start: datetime) -> Iterator[Span]:
        """The opening spans that end after `start`, earliest first, endlessly."""
        day = self._local_date(start)
        while True:
            for span in self.spans_on(day):
                if span[1] > start:
                    yield span
            day += _ONE_DAY

    def _utc_spans(self, day: date) -> tuple[Span, ...]:
        """Compute `spans_on(day)`: local wall-clock spans, placed by zoneinfo in UTC."""
        local_spans = self.week[day.weekday()]
        if not local_spans or self.is_holiday(day):
            return ()
        # Aware + timedelta moves the wall clock, and zoneinfo then gives that wall time its
        # offset: 08:30 is 08:30 local whether or not the clocks changed overnight.
        midnight = datetime.combine(day, time(), tzinfo=self.zone)
        spans = []
        for opening, closing in local_spans:
            opens_at = (midnight + timedelta(minutes=opening)).astimezone(UTC)
            closes_at = (midnight + timedelta(minutes=closing)).astimezone(UTC)
            if opens_at < closes_at:  # not a span lost in a spring-forward gap
                spans.append((opens_at, closes_at))
        return tuple(spans)

    def _local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()


#: Calendars of this process, keyed by (timezone, frozen business hours, country, subdivision).
_CALENDARS: dict[tuple, BusinessCalendar] = {}


def _as_utc(moment: datetime) -> datetime:
    """`moment` in UTC; raises ValueError for a naive datetime rather than guess its zone."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: pass an aware datetime")
    return moment.astimezone(UTC)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, LookupError) as error:  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(f"unknown time zone {name!r}") from error


def _check_holiday_calendar(country: str | None, subdivision: str | None) -> None:
    """Fail now, not at the first deadline, on a calendar the `holidays` package lacks."""
    if country is None:
        if subdivision is not None:
            raise ValueError(f"holiday subdivision {subdivision!r} without a country")
        return
    try:
        holidays.country_holidays(country, subdiv=subdivision)
    except NotImplementedError as error:
        raise ValueError(f"unknown holiday calendar: {error}") from error


def _parse_week(business_hours: BusinessHours) -> tuple[tuple[_LocalSpan, ...], ...]:
    """Seven tuples (Monday first) of sorted, merged local spans; raises ValueError."""
    week: list[tuple[_LocalSpan, ...]] = [()] * 7
    for day, spans in business_hours.items():
        weekday = int(day)
        if not 0 <= weekday <= 6:
            raise ValueError(f"weekday {day!r} is not between 0 (Monday) and 6 (Sunday)")
        week[weekday] = _merge([_parse_span(span) for span in spans])
    return tuple(week)


def _parse_span(span: Sequence[str]) -> _LocalSpan:
    opening, closing = span
    minutes = _minutes(opening), _minutes(closing)
    if minutes[0] >= minutes[1]:
        raise ValueError(f"opening span {list(span)!r} does not close after it opens")
    return minutes


def _minutes(clock: str) -> int:
    """Minutes after midnight of a local "HH:MM" time, "24:00" being the end of the day."""
    match = _CLOCK.fullmatch(clock) if isinstance(clock, str) else None
    minutes = int(match[1]) * 60 + int(match[2]) if match else None
    if minutes is None or minutes > _MINUTES_PER_DAY:
        raise ValueError(f"{clock!r} is not a time of day as HH:MM")
    return minutes


def _merge(spans: list[_LocalSpan]) -> tuple[_LocalSpan, ...]:
    """Sorted spans, overlapping or touching ones merged, so no minute counts twice."""
    merged: list[_LocalSpan] = []
    for opening, closing in sorted(spans):
        if merged and opening <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closing))
        else:
            merged.append((opening, closing))
    return tuple(merged)


def _freeze(business_hours: BusinessHours) -> tuple:
    """A hashable, order-independent copy of a business_hours mapping, for the cache key."""
    return tuple(
        sorted(
            (str(day), tuple(tuple(span) for span in spans))
            for day, spans in business_hours.items()
        )
    )
