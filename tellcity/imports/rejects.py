"""The rejects file of an import (`--rejects FILE`): every row that did not become a report,
as it was, after two columns saying which line of the export it was and why it was skipped.

It is written with the mapping's delimiter and encoding, so that a clerk can fix the rows in a
spreadsheet and import the file again with the same mapping: the two added columns are not the
mapping's and are not read. A cell a spreadsheet would run as a formula is written after an
apostrophe (tellcity.core.csv), numbers aside (a longitude of -118.5 is left as it is), and the
apostrophe is taken off again when a rejects file is imported (RowParser).
"""

import csv
from pathlib import Path

from tellcity.core.csv import cell, is_formula

#: The columns a rejects file adds before the export's own.
COLUMNS = ("rejected_line", "rejected_reason")


class RejectsFile:
    """A rejects file at `path`, under the export's `header`, open until `close`."""

    def __init__(self, path: Path, header: list[str], encoding: str, delimiter: str):
        self.path = path
        self.rows = 0
        #: A rejects file imported again has the columns already: they are not repeated.
        self._own = len(COLUMNS) if is_rejects(header) else 0
        # Bytes the encoding cannot write (an unreadable byte was read as U+FFFD) become "?".
        self._file = path.open("w", encoding=encoding, errors="replace", newline="")
        self._writer = csv.writer(self._file, delimiter=delimiter)
        self._writer.writerow([*COLUMNS, *header[self._own :]])

    def write(self, line: int, reason: str, fields: list[str]) -> None:
        """Add the row of the export's `line`, skipped for `reason`, with its `fields`."""
        self._writer.writerow([line, reason, *(_cell(field) for field in fields[self._own :])])
        self.rows += 1

    def close(self) -> None:
        self._file.close()


def is_rejects(header: list[str]) -> bool:
    """Whether a file of this header is a rejects file."""
    return tuple(header[: len(COLUMNS)]) == COLUMNS


def unescaped(text: str) -> str:
    """A cell of a rejects file as the export had it: without the apostrophe `_cell` put
    before a formula."""
    if text.startswith("'") and is_formula(text[1:]):
        return text[1:]
    return text


def _cell(text: str) -> str:
    if not is_formula(text):
        return text
    try:
        float(text)
    except ValueError:
        return cell(text)
    return text
