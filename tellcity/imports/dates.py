"""Reading the timestamps of 311 exports: the mapping's strptime formats (or ISO 8601), local
time in the data's time zone unless an offset is given, converted to UTC."""

import operator
import re
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

from tellcity.imports.mapping import ISO

#: strptime directives the fast parser handles: (regex, field). Other formats go to strptime.
_DIRECTIVES = {
    "%Y": (r"(\d{4})", "year"),
    "%y": (r"(\d{2})", "year2"),
    "%m": (r"(\d{1,2})", "month"),
    "%d": (r"(\d{1,2})", "day"),
    "%H": (r"(\d{1,2})", "hour"),
    "%I": (r"(\d{1,2})", "hour12"),
    "%M": (r"(\d{1,2})", "minute"),
    "%S": (r"(\d{1,2})", "second"),
    "%p": (r"([AaPp][Mm])", "ampm"),
}
_DIRECTIVE = re.compile(r"%.")


def compile_format(
    date_format: str, zone: tzinfo | None = None
) -> Callable[[str], datetime | None] | None:
    """A parser for `date_format` several times faster than strptime (which rebuilds its
    state at each call), giving datetimes in `zone` (naive without one), or None when the
    format uses a directive it does not handle. Like strptime: %y 69-99 is 19xx, 00-68 20xx;
    %I goes with %p; spaces match any run of spaces."""
    pattern, fields = "", []
    position = 0
    for match in _DIRECTIVE.finditer(date_format):
        if match.group() not in _DIRECTIVES:
            return None
        regex, name = _DIRECTIVES[match.group()]
        pattern += _literal(date_format[position : match.start()]) + regex
        fields.append(name)
        position = match.end()
    matcher = re.compile(pattern + _literal(date_format[position:]) + r"\Z").match
    build = _builder(fields, zone)

    def parse(text: str) -> datetime | None:
        matched = matcher(text)
        if matched is None:
            return None
        try:
            return build(matched.groups())
        except ValueError:  # 31 February, hour 25...
            return None

    return parse


def _literal(text: str) -> str:
    return r"\s+".join(re.escape(part) for part in text.split(" "))


#: The fields of a datetime, and their values when the format has none (as text, like the
#: matched groups they stand beside).
_PARTS = ("year", "month", "day", "hour", "minute", "second")
_DEFAULTS = ("1900", "1", "1", "0", "0", "0")


def _builder(fields: list[str], zone: tzinfo | None) -> Callable[[tuple[str, ...]], datetime]:
    """A function making the datetime of the groups matched for `fields` (strptime's rules);
    it raises ValueError for a date or time that does not exist."""
    at = {name: index for index, name in enumerate(fields)}
    at["year"] = at.get("year2", at.get("year"))
    at["hour"] = at.get("hour12", at.get("hour"))
    after = len(fields)  # the defaults follow the groups
    pick = operator.itemgetter(
        *(after + i if at.get(name) is None else at[name] for i, name in enumerate(_PARTS))
    )
    short_year, twelve_hours, ampm = "year2" in at, "hour12" in at, at.get("ampm")

    def build(groups: tuple[str, ...]) -> datetime:
        year, month, day, hour, minute, second = map(int, pick(groups + _DEFAULTS))
        if short_year:
            year += 1900 if year >= 69 else 2000
        if twelve_hours:
            if not 1 <= hour <= 12:
                raise ValueError("hour out of range")
            hour %= 12
            if ampm is not None and groups[ampm].lower() == "pm":
                hour += 12
        return datetime(year, month, day, hour, minute, second, tzinfo=zone)

    return build


class DateParser:
    """Parses timestamps with the mapping's formats, the first that fits winning. Timestamps
    without an offset are local time in `zone`. Results are cached: exports repeat the same
    minute many times, and dates are the costliest cells of a row to read."""

    CACHE_SIZE = 200_000

    def __init__(self, formats: tuple[str, ...], zone: ZoneInfo):
        self.parsers = [_parser(date_format, zone) for date_format in formats]
        self.zone = zone
        self._cache: dict[str, datetime | None] = {}

    def __call__(self, text: str) -> datetime | None:
        """The timestamp in UTC, or None when no format fits."""
        try:
            return self._cache[text]
        except KeyError:
            pass
        if len(self._cache) >= self.CACHE_SIZE:
            self._cache.clear()
        value = self._cache[text] = self._parse(text)
        return value

    def _parse(self, text: str) -> datetime | None:
        for parser in self.parsers:
            value = parser(text)
            if value is not None:
                if value.tzinfo is None:
                    value = value.replace(tzinfo=self.zone)
                return value.astimezone(UTC)
        return None


def _parser(date_format: str, zone: ZoneInfo) -> Callable[[str], datetime | None]:
    """A function parsing timestamps written in `date_format` (None when one does not fit),
    local times in `zone` unless the timestamp gives its offset."""
    if date_format == ISO:
        return _or_none(datetime.fromisoformat)
    return compile_format(date_format, zone) or _or_none(
        lambda text: datetime.strptime(text, date_format)
    )


def _or_none(parse: Callable[[str], datetime]) -> Callable[[str], datetime | None]:
    def parse_or_none(text: str) -> datetime | None:
        try:
            return parse(text)
        except ValueError:
            return None

    return parse_or_none
