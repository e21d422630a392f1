"""Reading the records of a 311 export: each CSV record with the line it starts on, decoded
line by line, so that a byte the mapping's encoding cannot read spoils the one record it is in
and never the rest of the file (a whole-file decoder stops at the first such byte).

Lines are split on the newline byte before they are decoded, which is right for the encodings
a mapping may name (those that write ASCII as ASCII: see tellcity.imports.mapping).
"""

import codecs
import csv
from collections.abc import Iterator
from typing import BinaryIO

#: A record: the number of the line it starts on (the header is line 1), its fields (None for
#: one the csv module cannot split, see Records.text), and the offset in the file of its first
#: byte the encoding cannot read (None when it has none).
Record = tuple[int, list[str] | None, int | None]


class Records:
    """The header, then the records of the CSV file `binary`, read as `encoding`. `offset` is
    how many bytes have been read so far."""

    def __init__(self, binary: BinaryIO, encoding: str, delimiter: str):
        self.offset = 0
        self._binary = binary
        self._encoding = encoding
        if codecs.lookup(encoding).name == "utf-8-sig":
            # The byte order mark is read here, so that offsets count it.
            if binary.read(3) == codecs.BOM_UTF8:
                self.offset = 3
            else:
                binary.seek(0)
            self._encoding = "utf-8"
        #: The offset of the first unreadable byte since the current record began.
        self._bad: int | None = None
        #: The text of the lines of the current record, as far as it could be decoded.
        self._lines: list[str] = []
        self._reader = csv.reader(self._decoded(), delimiter=delimiter)

    def header(self) -> tuple[list[str] | None, int | None]:
        """The first record's fields (None for an empty file) and its first unreadable byte."""
        _, header, bad = next(iter(self), (None, None, None))
        return header, bad

    def __iter__(self) -> Iterator[Record]:
        """The records, blank lines left out. A record the csv module cannot split (a field
        over its size limit) comes with fields None; its text is then in `text`."""
        reader, lines = self._reader, self._lines
        previous = reader.line_num
        while True:
            self._bad = None
            lines.clear()
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error:
                fields = None
            line, previous = previous + 1, reader.line_num
            if fields == []:  # a blank line is no record
                continue
            yield line, fields, self._bad

    @property
    def text(self) -> str:
        """The text of the current record's lines (unreadable bytes as U+FFFD)."""
        return "".join(self._lines)

    def _decoded(self) -> Iterator[str]:
        encoding, lines = self._encoding, self._lines
        for raw in self._binary:
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError as error:
                if self._bad is None:
                    self._bad = self.offset + error.start
                text = raw.decode(encoding, "replace")
            self.offset += len(raw)
            lines.append(text)
            yield text
