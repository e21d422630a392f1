"""Date ranges of the statistics: local dates of the city (both ends included), their bounds in
UTC, the period before them, and the days, weeks or months their figures are shown by."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

#: How a time series is bucketed.
PERIODS = ("day", "week", "month")
#: The longest range the statistics accept, so that a request stays cheap.
MAX_DAYS = 3660
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class DateRange:
    """The local days `first` to `last` (both included) in the time zone `timezone`."""

    first: date
    last: date
    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start(self) -> datetime:
        """The first instant of the range, in UTC: local midnight of `first`."""
        return local_midnight(self.first, self.zone)

    @property
    def end(self) -> datetime:
        """The instant just after the range, in UTC: local midnight after `last`."""
        return local_midnight(self.last + timedelta(days=1), self.zone)

    def previous(self) -> "DateRange":
        """The range of the same length that ends the day before this one starts."""
        return DateRange(
            self.first - timedelta(days=self.days), self.first - timedelta(days=1), self.timezone
        )

    def default_period(self) -> str:
        """Days up to three months, weeks up to two years, months beyond."""
        if self.days <= 92:
            return "day"
        return "week" if self.days <= 731 else "month"


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def local_today(timezone: str, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(timezone)).date()


def last_days(timezone: str, days: int = DEFAULT_DAYS, now: datetime | None = None) -> DateRange:
    """The `days` local days up to today included."""
    today = local_today(timezone, now)
    return DateRange(today - timedelta(days=days - 1), today, timezone)


def last_month(timezone: str, now: datetime | None = None) -> date:
    """The first day of the calendar month before this one (the monthly summary's default)."""
    this_month = local_today(timezone, now).replace(day=1)
    return (this_month - timedelta(days=1)).replace(day=1)


def month_range(month: date, timezone: str) -> DateRange:
    """The calendar month holding `month`."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return DateRange(first, following - timedelta(days=1), timezone)


def months_before(month: date, count: int) -> date:
    """The first day of the month `count` calendar months before the one holding `month`."""
    index = month.year * 12 + month.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def bucket_start(day: date, period: str) -> date:
    """The first day of the week (Monday) or month holding `day`; `day` itself for days."""
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def buckets(dates: DateRange, period: str) -> list[date]:
    """The first day of every bucket the range touches, in order (the first and last may be
    partly outside the range)."""
    found: list[date] = []
    day = dates.first
    while day <= dates.last:
        start = bucket_start(day, period)
        if not found or found[-1] != start:
            found.append(start)
        day += timedelta(days=1)
    return found


def utc_offsets(zone: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """The time zone's offsets from UTC, in seconds, over [start, end): a list of (from, offset)
    pairs, the first `from` being `start`. Daylight saving changes are found day by day, then
    to the minute, so that a database without time zones can shift timestamps exactly."""
    found = [(start, _offset(zone, start))]
    moment = start
    while moment < end:
        following = min(moment + timedelta(days=1), end)
        if _offset(zone, following) != found[-1][1]:
            change = _first_change(zone, moment, following, found[-1][1])
            found.append((change, _offset(zone, change)))
        moment = following
    return found


def _offset(zone: ZoneInfo, moment: datetime) -> int:
    return int(moment.astimezone(zone).utcoffset().total_seconds())


def _first_change(zone: ZoneInfo, low: datetime, high: datetime, offset: int) -> datetime:
    """The first minute in (low, high] whose offset is not `offset` (one exists)."""
    while high - low > timedelta(minutes=1):
        middle = low + (high - low) / 2
        middle = middle.replace(second=0, microsecond=0)
        if middle <= low:
            middle = low + timedelta(minutes=1)
        if _offset(zone, middle) == offset:
            low = middle
        else:
            high = middle
    return high
