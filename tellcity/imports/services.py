"""Importing a 311 export (CSV) into a city, through a column mapping: reading the file,
counting every row that does not become a report by its reason, and committing by batches
(see tellcity.imports.writer for what is written).

Committing each batch keeps a million-row import from holding one huge transaction; since an
import skips the ids the city already holds, running it again after a failure carries on where
it stopped.
"""

import csv
import gc
import io
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa

from tellcity.cities.models import City
from tellcity.core.transaction import unit_of_work
from tellcity.extensions import db
from tellcity.imports.mapping import ImportMapping, MappingError, is_slug
from tellcity.imports.parsing import (
    CHANGE_MESSAGES,
    SKIP_MESSAGES,
    Change,
    Row,
    RowParser,
    Skip,
    Skipped,
)
from tellcity.imports.writer import ReportWriter

BATCH_SIZE = 5_000


class ImportFailed(Exception):
    """The file cannot be imported (unreadable, not the mapping's columns, a clash with
    another city); the message says why."""


@dataclass
class ImportResult:
    """What an import did, row by row, counted by reason."""

    city_slug: str
    city_name: str = ""
    city_created: bool = False
    #: Records read from the file (blank lines aside).
    rows: int = 0
    imported: int = 0
    already_imported: int = 0
    skipped: Counter[Skip] = field(default_factory=Counter)
    changes: Counter[Change] = field(default_factory=Counter)
    #: The source statuses behind Skip.UNKNOWN_STATUS, with their counts.
    unknown_statuses: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def summary(self) -> list[str]:
        """The lines printed at the end of an import."""
        if not self.city_name:
            where = f"{self.city_slug} (not created: nothing to import)"
        else:
            where = (
                f"{self.city_name} ({self.city_slug}{', new city' if self.city_created else ''})"
            )
        line = f"Imported {self.imported:,} reports into {where}"
        if self.already_imported:
            line += f"; {self.already_imported:,} already imported"
        line += f"; skipped {sum(self.skipped.values()):,}"
        if self.skipped:
            line += ": " + _counted(self.skipped, SKIP_MESSAGES)
        lines = [line + "."]
        if self.unknown_statuses:
            statuses = ", ".join(f"{s!r} ({n:,})" for s, n in self.unknown_statuses.most_common())
            lines.append(f"Statuses missing from the mapping: {statuses}.")
        if self.changes:
            lines.append(f"Imported with changes: {_counted(self.changes, CHANGE_MESSAGES)}.")
        return lines

    def skip(self, skipped: Skipped) -> None:
        self.skipped[skipped.reason] += 1
        if skipped.reason == Skip.UNKNOWN_STATUS:
            self.unknown_statuses[skipped.detail] += 1


def _counted(counts: Counter, messages: dict) -> str:
    return ", ".join(
        f"{counts[key]:,} {message}" for key, message in messages.items() if key in counts
    )


def import_file(
    path: Path,
    mapping: ImportMapping,
    *,
    city_slug: str | None = None,
    city_name: str | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import the 311 export at `path` into the city `city_slug` (the mapping's city when not
    given), creating the city, marked imported, when it does not exist yet (named `city_name`,
    else the mapping's name for it). Unknown agencies and categories are created, marked
    imported. Rows already imported (same external id in the city) are left alone.

    Commits after each batch; `progress` is called after each with the bytes read so far.
    Returns the counts of what was imported and skipped, by reason. Raises ImportFailed.
    """
    started = time.perf_counter()
    with _young_collections_only():
        result = _import(path, mapping, city_slug, city_name, batch_size, progress)
    result.seconds = time.perf_counter() - started
    return result


def _import(
    path: Path,
    mapping: ImportMapping,
    city_slug: str | None,
    city_name: str | None,
    batch_size: int,
    progress: Callable[[int], None] | None,
) -> ImportResult:
    slug = city_slug or mapping.city.slug
    city = db.session.scalar(sa.select(City).where(City.slug == slug))
    if city is None:
        _check_new_city(slug, mapping.city.reference_prefix)
    result = ImportResult(city_slug=slug, city_name=city.name if city else "")
    with _open_csv(path, mapping) as (header, records, binary):
        try:
            parser = RowParser(mapping, header)
        except MappingError as error:
            raise ImportFailed(f"{path.name}: {error}") from error
        writer = ReportWriter(mapping, city, result, city_name=city_name)
        for batch in _batches(_rows(records, parser, result), batch_size):
            _write(writer, batch)
            if progress:
                progress(binary.tell())
        with unit_of_work():
            writer.finish()
    return result


@contextmanager
def _young_collections_only() -> Iterator[None]:
    """Keep the garbage collector off the objects that exist before the import (the app, its
    models, SQLAlchemy's caches: most of the heap) while it runs: the import allocates
    millions of short-lived objects, and each full collection would walk them all, for
    nothing (about a tenth of the import's time). A process that froze objects itself is
    left as it is."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _write(writer: ReportWriter, batch: list[Row]) -> None:
    """Write and commit one batch; a batch the database refuses is rolled back whole."""
    try:
        with unit_of_work():
            writer.add(batch)
    except sa.exc.IntegrityError as error:
        raise ImportFailed(
            f"the database refused a batch ({error.orig}); the batches before it are imported"
        ) from error


def _check_new_city(slug: str, prefix: str) -> None:
    """Raises ImportFailed unless a city `slug` with references `prefix` can be created."""
    if not is_slug(slug):
        raise ImportFailed(f"{slug!r} cannot be a city's slug: lowercase words joined by hyphens")
    other = db.session.scalar(sa.select(City.slug).where(City.reference_prefix == prefix))
    if other is not None:
        raise ImportFailed(
            f"the reference prefix {prefix} is taken by the city {other}: import into it with "
            f"--city {other}, or write a mapping with another reference_prefix"
        )


@contextmanager
def _open_csv(
    path: Path, mapping: ImportMapping
) -> Iterator[tuple[list[str], Iterator[list[str]], BinaryIO]]:
    """The header, a reader of the records that follow, and the binary file under them (its
    position is how far the import has read). Raises ImportFailed when the file cannot be read
    as text in the mapping's encoding."""
    try:
        binary = path.open("rb")
    except OSError as error:
        raise ImportFailed(f"cannot read {path}: {error.strerror}") from error
    text = io.TextIOWrapper(binary, encoding=mapping.encoding, newline="")
    try:
        records = csv.reader(text, delimiter=mapping.delimiter)
        header = next(records, None)
        if not header:
            raise ImportFailed(f"{path.name} is empty: no header row")
        yield [name.strip() for name in header], records, binary
    except UnicodeDecodeError as error:
        raise ImportFailed(
            f"{path.name} is not {mapping.encoding} text (near byte {binary.tell():,}); set "
            f"`encoding` in the mapping. The rows before it are imported: run again when fixed."
        ) from error
    finally:
        text.close()


def _rows(records: Iterator[list[str]], parser: RowParser, result: ImportResult) -> Iterator[Row]:
    """The rows that can become reports, in file order: the first of each id. Every other
    record is counted in `result` by the reason it is not imported."""
    seen: set[str] = set()
    while True:
        try:
            fields = next(records)
        except StopIteration:
            return
        except csv.Error:  # e.g. a field over the csv module's size limit
            result.rows += 1
            result.skipped[Skip.MALFORMED] += 1
            continue
        if not fields:  # a blank line is no record
            continue
        result.rows += 1
        try:
            row = parser.parse(fields)
        except Skipped as skipped:
            result.skip(skipped)
            continue
        if row.external_id in seen:
            result.skipped[Skip.DUPLICATE_ID] += 1
            continue
        seen.add(row.external_id)
        yield row


def _batches(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch
