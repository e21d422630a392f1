"""CSV for spreadsheets: every export (the staff queue, the statistics tables, open data) is
written here, so that no cell can run as a formula when the file is opened.

A spreadsheet runs a cell starting with `=`, `+`, `-` or `@` as a formula, and some also after
a leading tab or carriage return; such text (a report's description, a category's name) is
written with a leading apostrophe, as OWASP advises ("CSV injection"). Numbers are left alone:
a longitude of -1.5 is a number, not a formula.
"""

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence

#: What a formula may start with.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: Size in characters of each chunk of a streamed file.
CHUNK = 64_000


def cell(value):
    """`value` as a CSV cell: "" for None, ISO 8601 for dates and times, and text that a
    spreadsheet would run as a formula after an apostrophe."""
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_chunks(columns: Sequence[str], rows: Iterable) -> Iterator[str]:
    """The CSV text of a header of `columns` and `rows`, in chunks of about 64 kB for a
    streamed answer. A row is a sequence in the columns' order, or a mapping read by column
    name (other keys are left out)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        values = (row.get(c) for c in columns) if isinstance(row, Mapping) else row
        writer.writerow([cell(value) for value in values])
        if buffer.tell() > CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_text(columns: Sequence[str], rows: Iterable) -> str:
    """The same CSV text in one string, for a small table."""
    return "".join(csv_chunks(columns, rows))
