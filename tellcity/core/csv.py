"""CSV for spreadsheets: every export (the staff queue, the statistics tables, open data) is
written here, so that no cell can run as a formula when the file is opened.

A spreadsheet runs a cell starting with `=`, `+`, `-` or `@` as a formula, and some also after
a leading tab, carriage return or line feed, after spaces or invisible characters, or when the
sign is a fullwidth or small form (U+FF1D, U+FE66 for `=`) read as the ASCII one. Such text (a
report's description, a reporter's name, a category's name) is written with a leading
apostrophe, as OWASP advises ("CSV injection"). Numbers are left alone: a longitude of -1.5 is
a number, not a formula.

Times are written as the city's clerks read them: in the time zone times are shown in
(tellcity.core.i18n, the city's), in ISO 8601 with their offset, 2026-01-15T00:00:00-05:00.
"""

import csv
import io
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, tzinfo
from decimal import Decimal

from flask import has_app_context
from flask_babel import get_timezone

from tellcity.core.i18n import iso_local

#: What a formula may start with, after NFKC (which reads the fullwidth and small forms as the
#: ASCII signs), and the minus sign U+2212, which NFKC leaves as it is.
FORMULA_SIGNS = frozenset("=+-@\u2212")
#: What makes a spreadsheet look further into a cell, OWASP's tab and carriage return among them.
LEADING_BREAKS = ("\t", "\r", "\n")
#: Characters a spreadsheet may skip before a formula: spaces and invisible ones.
SKIPPED_CATEGORIES = frozenset(("Cc", "Cf", "Zs", "Zl", "Zp"))

#: Size in characters of each chunk of a streamed file.
CHUNK = 64_000


def cell(value, zone: tzinfo | None = None):
    """`value` as a CSV cell: "" for None, ISO 8601 for dates and times (a time in `zone`, to
    the second), and text that a spreadsheet would run as a formula after an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, datetime) and zone is not None:
        return iso_local(value, zone)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (bool, int, float, Decimal)):
        return value
    text = str(value)
    return "'" + text if is_formula(text) else text


def is_formula(text: str) -> bool:
    """Whether a spreadsheet may run `text` as a formula: it starts with a line break or a
    tab, or its first visible character is a formula's sign in any of its forms."""
    if text.startswith(LEADING_BREAKS):
        return True
    first = next((c for c in text if unicodedata.category(c) not in SKIPPED_CATEGORIES), "")
    return bool(first) and unicodedata.normalize("NFKC", first)[:1] in FORMULA_SIGNS


def csv_chunks(columns: Sequence[str], rows: Iterable) -> Iterator[str]:
    """The CSV text of a header of `columns` and `rows`, in chunks of about 64 kB for a
    streamed answer. A row is a sequence in the columns' order, or a mapping read by column
    name (other keys are left out). The time zone is read now: the chunks are written after
    the request has ended."""
    return _chunks(columns, rows, get_timezone() if has_app_context() else None)


def _chunks(columns: Sequence[str], rows: Iterable, zone: tzinfo | None) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        values = (row.get(c) for c in columns) if isinstance(row, Mapping) else row
        writer.writerow([cell(value, zone) for value in values])
        if buffer.tell() > CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_text(columns: Sequence[str], rows: Iterable) -> str:
    """The same CSV text in one string, for a small table."""
    return "".join(csv_chunks(columns, rows))
