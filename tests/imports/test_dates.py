"""The importer's date formats read timestamps exactly as strptime does, only faster."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tellcity.imports.dates import DateParser, compile_format

FORMATS = ["%m/%d/%y %H:%M", "%m/%d/%Y %I:%M:%S %p", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y"]
TEXTS = [
    "1/1/20 0:05",
    "12/31/99 23:59",
    "1/1/68 0:00",
    "1/1/69 0:00",
    "13/1/20 0:05",
    "2/30/20 1:00",
    "01/01/2020 12:00:00 AM",
    "01/01/2020 12:30:00 pm",
    "01/01/2020 00:30:00 PM",
    "01/01/2020 13:30:00 PM",
    "1/1/2020  1:02:03 am",
    "2020-01-02 03:04:05",
    "2020-1-2 3:4:5",
    "2.1.2020",
    "",
    "soon",
    "1/1/20 0:05 ",
]


@pytest.mark.parametrize("date_format", FORMATS)
def test_the_fast_formats_agree_with_strptime(date_format):
    parse = compile_format(date_format)
    for text in TEXTS:
        try:
            expected = datetime.strptime(text, date_format)
        except ValueError:
            expected = None
        assert parse(text) == expected, text


def test_other_directives_are_left_to_strptime():
    assert compile_format("%Y-%m-%dT%H:%M:%S%z") is None
    parse = DateParser(("%Y-%m-%dT%H:%M:%S%z",), ZoneInfo("America/New_York"))
    assert parse("2020-07-01T10:00:00+0200") == datetime(2020, 7, 1, 8, tzinfo=UTC)


def test_local_times_become_utc_the_first_fitting_format_winning():
    parse = DateParser(("%m/%d/%y %H:%M", "iso"), ZoneInfo("America/Los_Angeles"))
    assert parse("1/1/20 0:05") == datetime(2020, 1, 1, 8, 5, tzinfo=UTC)  # PST
    assert parse("2020-07-01T00:05:00") == datetime(2020, 7, 1, 7, 5, tzinfo=UTC)  # PDT
    assert parse("2020-07-01T00:05:00Z") == datetime(2020, 7, 1, 0, 5, tzinfo=UTC)
    assert parse("yesterday") is None
