"""Reading the timestamps of 311 exports: the mapping's strptime formats (or ISO 8601), local
time in the data's time zone unless an offset is given, converted to UTC."""

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
    compiled = re.compile(pattern + _literal(date_format[position:]) + r"\Z")

    def parse(text: str) -> datetime | None:
        match = compiled.match(text)
        if match is None:
            return None
        try:
            return _build(dict(zip(fields, match.groups(), strict=True)), zone)
        except ValueError:  # 31 February, hour 25...
            return None

    return parse


def _literal(text: str) -> str:
    return r"\s+".join(re.escape(part) for part in text.split(" "))


def _build(values: dict[str, str], zone: tzinfo | None) -> datetime:
    if "year2" in values:
        short = int(values["year2"])
        year = 1900 + short if short >= 69 else 2000 + short
    else:
        year = int(values.get("year", 1900))
    hour = int(values.get("hour", 0))
    if "hour12" in values:
        hour = int(values["hour12"])
        if not 1 <= hour <= 12:
            raise ValueError("hour out of range")
        hour %= 12
        if values.get("ampm", "am").lower() == "pm":
            hour += 12
    return datetime(
        year,
        int(values.get("month", 1)),
        int(values.get("day", 1)),
        hour,
        int(values.get("minute", 0)),
        int(values.get("second", 0)),
        tzinfo=zone,
    )


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
