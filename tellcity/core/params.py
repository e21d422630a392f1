"""Numbers read from a request (a query string, a form, a URL's path), all in one place.

`int()` reads more than a person types: "٣" and a fullwidth "1" are 3 and 1, "1_000" is
1000, " 7" is 7; and `str.isdigit()` says yes to "²", which int() then refuses. A number past
the column's integers fails in the query: on PostgreSQL, SQLAlchemy casts a parameter to the
column's type (`%(id)s::INTEGER`), so 2**31 is already a DataError for a table keyed by an
Integer; on SQLite, past 2**63 - 1, an OverflowError. Either way a 500. So a number here is
ASCII digits only, with a leading minus sign at most, within bounds; anything else is the
caller's default (a filter then filters nothing, a page is the first) or, for an action, the
caller's refusal (the action's own Invalid, said on its page).

In the URL map, `<int:...>` takes ASCII digits up to MAX_ID only, and `<bigid:...>` up to
MAX_BIG_ID (for the tables keyed by a BigId); anything else is a 404.
"""

import math
import re

from flask import Flask
from werkzeug.routing import IntegerConverter, ValidationError

#: The largest value of an Integer column (PostgreSQL's integer).
MAX_INTEGER = 2**31 - 1
#: The largest id of a table keyed by an Integer.
MAX_ID = MAX_INTEGER
#: The largest id of a table keyed by a BigId: reports, their events, photos (bigint).
MAX_BIG_ID = 2**63 - 1
#: The largest page number of a public list: OFFSET stays cheap, and no one pages further.
MAX_PAGE = 500

_WHOLE = re.compile(r"-?[0-9]{1,19}")
_DIGITS = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]{1,3})?")


def int_param(value: str | None, *, minimum: int, maximum: int, default=None):
    """`value` as a whole number from `minimum` to `maximum`, or `default` when it is missing,
    not ASCII digits (with a leading minus sign), or out of bounds."""
    if not isinstance(value, str) or not _WHOLE.fullmatch(value):
        return default
    number = int(value)
    return number if minimum <= number <= maximum else default


def float_param(
    value: str | None, *, minimum: float = -math.inf, maximum: float = math.inf, default=None
):
    """`value` as a finite decimal number (ASCII digits, a point, an exponent) from `minimum`
    to `maximum`, or `default`: float() also reads "nan", "inf", "1e999" and other scripts'
    digits, which no position or distance can take."""
    if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
        return default
    number = float(value)
    return number if math.isfinite(number) and minimum <= number <= maximum else default


def id_param(value: str | None, default=None, *, maximum: int = MAX_ID):
    """`value` as a row's id (1 to `maximum`: MAX_BIG_ID for a BigId), or `default`."""
    return int_param(value, minimum=1, maximum=maximum, default=default)


def page_param(value: str | None, maximum: int = MAX_PAGE) -> int:
    """A page number from 1: 1 for anything that is not one, `maximum` for one past it (so a
    page far past the end is an empty page, not a crash or an expensive OFFSET)."""
    if not isinstance(value, str) or not _DIGITS.fullmatch(value):
        return 1
    if len(value.lstrip("0")) > len(str(maximum)):
        return maximum
    return min(max(int(value), 1), maximum)


class IdConverter(IntegerConverter):
    """`<int:name>` in a route: ASCII digits only (werkzeug's `\\d` takes any script's), for a
    number up to MAX_ID."""

    regex = r"[0-9]{1,19}"
    maximum = MAX_ID

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > self.maximum:
            raise ValidationError()
        return number


class BigIdConverter(IdConverter):
    """`<bigid:name>`: the same, up to MAX_BIG_ID."""

    maximum = MAX_BIG_ID


def init_app(app: Flask) -> None:
    """Before any route is added: the rules are compiled with the converters of that time."""
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["bigid"] = BigIdConverter
