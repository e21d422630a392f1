"""Importing a 311 export (CSV) into a city, through a column mapping: reading the file
(tellcity.imports.records), counting every row that does not become a report by its reason
and writing it to the rejects file if asked (tellcity.imports.rejects), and committing by
batches (see tellcity.imports.writer for what is written). An imported city's file is read
twice, the first time for its positions only (tellcity.imports.strays). The second reading
runs a batch ahead of the writing, in a thread (see _read_ahead); neither holds more than three
batches of rows.

Committing each batch keeps a million-row import from holding one huge transaction; since an
import skips the ids the city already holds, running it again after a failure carries on where
it stopped.
"""

import gc
import threading
import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from queue import Full, Queue

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
from tellcity.imports.records import Records
from tellcity.imports.rejects import RejectsFile
from tellcity.imports.strays import Bulk
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
    #: The departments and categories the import created, as (name, slug or code).
    new_departments: list[tuple[str, str]] = field(default_factory=list)
    new_categories: list[tuple[str, str]] = field(default_factory=list)
    #: Where the skipped rows are written, if anywhere.
    rejects: RejectsFile | None = None
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
        for what, created in (
            ("departments", self.new_departments),
            ("categories", self.new_categories),
        ):
            if created:
                listed = ", ".join(f"{name} ({code})" for name, code in created)
                lines.append(f"New {what} in {self.city_name}: {listed}.")
        if self.rejects is not None:
            rows = "row" if self.rejects.rows == 1 else "rows"
            lines.append(
                f"Skipped rows ({self.rejects.rows:,} {rows}) written to {self.rejects.path}."
            )
        return lines

    def skip(self, skipped: Skipped, line: int, fields: list[str]) -> None:
        """Count a row skipped, and write it to the rejects file if there is one."""
        self.skipped[skipped.reason] += 1
        if skipped.reason == Skip.UNKNOWN_STATUS:
            self.unknown_statuses[skipped.detail] += 1
        if self.rejects is not None:
            reason = SKIP_MESSAGES[skipped.reason]
            if skipped.detail:
                reason += f": {skipped.detail}"
            self.rejects.write(line, reason, fields)


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
    rejects: Path | None = None,
) -> ImportResult:
    """Import the 311 export at `path` into the city `city_slug` (the mapping's city when not
    given), creating the city, marked imported, when it does not exist yet (named `city_name`,
    else the mapping's name for it). Unknown agencies and categories are created, marked
    imported, one for each distinct name. Rows already imported (same external id in the city)
    are left alone. In an imported city, rows far from the bulk of the file are skipped
    (tellcity.imports.strays). Every skipped row is written to the file `rejects`, if given.

    Commits after each batch; `progress` is called after each with the bytes read so far.
    Returns the counts of what was imported and skipped, by reason. Raises ImportFailed.
    """
    started = time.perf_counter()
    with _young_collections_only():
        result = _import(path, mapping, city_slug, city_name, batch_size, progress, rejects)
    result.seconds = time.perf_counter() - started
    return result


def _import(
    path: Path,
    mapping: ImportMapping,
    city_slug: str | None,
    city_name: str | None,
    batch_size: int,
    progress: Callable[[int], None] | None,
    rejects: Path | None,
) -> ImportResult:
    slug = city_slug or mapping.city.slug
    city = db.session.scalar(sa.select(City).where(City.slug == slug))
    if city is None:
        _check_new_city(slug, mapping.city.reference_prefix)
    result = ImportResult(city_slug=slug, city_name=city.name if city else "")
    # A city configured by hand has limits of its own; an imported one grows to its reports.
    bulk = _bulk(path, mapping) if city is None or city.is_imported else None
    with _open_csv(path, mapping) as (header, records):
        parser = _parser(path, mapping, header)
        if rejects is not None:
            result.rejects = _rejects_file(rejects, path, header, mapping)
        try:
            writer = ReportWriter(mapping, city, result, city_name=city_name)
            batches = _batches(records, _rows(records, parser, bulk), batch_size)
            with _read_ahead(batches) as read:
                for batch in read:
                    _write(writer, batch, result)
                    if progress:
                        progress(batch.offset)
            with unit_of_work():
                writer.finish()
        finally:
            if result.rejects is not None:
                result.rejects.close()
    return result


def _parser(path: Path, mapping: ImportMapping, header: list[str]) -> RowParser:
    try:
        return RowParser(mapping, header)
    except MappingError as error:
        raise ImportFailed(f"{path.name}: {error}") from error


def _rejects_file(
    path: Path, imported: Path, header: list[str], mapping: ImportMapping
) -> RejectsFile:
    """The rejects file at `path`. Raises ImportFailed when it cannot be written, or is the
    file being imported (a clerk importing a fixed rejects file again), which it would empty."""
    if path.resolve() == imported.resolve():
        raise ImportFailed(
            f"the rejects file cannot be {imported.name} itself, the file imported: "
            "give --rejects another name"
        )
    try:
        return RejectsFile(path, header, mapping.encoding, mapping.delimiter)
    except OSError as error:
        raise ImportFailed(f"cannot write the rejects file {path}: {error.strerror}") from error


def _bulk(path: Path, mapping: ImportMapping) -> Bulk | None:
    """Where the positions of the file lie (a first reading of it, positions only)."""
    lats, lons = array("d"), array("d")
    with _open_csv(path, mapping) as (header, records):
        parser = _parser(path, mapping, header)
        for _, fields, bad_byte in records:
            if fields is None or bad_byte is not None:
                continue
            position = parser.position(fields)
            if position is not None:
                lats.append(position[0])
                lons.append(position[1])
    return Bulk.of(lats, lons)


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


def _write(writer: ReportWriter, batch: "_Batch", result: ImportResult) -> None:
    """Count the records of one batch, write its skipped ones to the rejects file, then write
    and commit its rows; a batch the database refuses is rolled back whole."""
    result.rows += len(batch.rows) + len(batch.rejected)
    for skipped, line, fields in batch.rejected:
        result.skip(skipped, line, fields)
    if not batch.rows:
        return
    try:
        with unit_of_work():
            writer.add(batch.rows)
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
def _open_csv(path: Path, mapping: ImportMapping) -> Iterator[tuple[list[str], Records]]:
    """The header and a reader of the records that follow. Raises ImportFailed when the file
    cannot be read or its header is not text in the mapping's encoding."""
    try:
        binary = path.open("rb")
    except OSError as error:
        raise ImportFailed(f"cannot read {path}: {error.strerror}") from error
    with binary:
        records = Records(binary, mapping.encoding, mapping.delimiter)
        header, bad_byte = records.header()
        if not header:
            raise ImportFailed(f"{path.name} is empty: no header row")
        if bad_byte is not None:
            raise ImportFailed(
                f"{path.name} is not {mapping.encoding} text (its header, at byte "
                f"{bad_byte:,}); set `encoding` in the mapping"
            )
        yield [name.strip() for name in header], records


def _rows(records: Records, parser: RowParser, bulk: Bulk | None) -> Iterator["Row | Rejected"]:
    """For each record, in file order, its Row, or why it is not imported: each id's first
    row can become a report."""
    seen: set[str] = set()
    for line, fields, bad_byte in records:
        if fields is None:  # e.g. a field over the csv module's size limit
            yield Skipped(Skip.MALFORMED), line, [records.text]
            continue
        if bad_byte is not None:
            yield Skipped(Skip.UNDECODABLE, f"byte {bad_byte:,}"), line, fields
            continue
        try:
            row = parser.parse(fields)
        except Skipped as skipped:
            yield skipped, line, fields
            continue
        if row.external_id in seen:
            yield Skipped(Skip.DUPLICATE_ID), line, fields
            continue
        if bulk is not None and bulk.is_far(row.lat, row.lon):
            yield Skipped(Skip.STRAY_POSITION, _far(bulk)), line, fields
            continue
        seen.add(row.external_id)
        row.line, row.fields = line, fields
        yield row


def _far(bulk: Bulk) -> str:
    return f"over {bulk.radius_km:,.0f} km from their median position"


#: A record that does not become a report: why, its line, its fields as read.
Rejected = tuple[Skipped, int, list[str]]


@dataclass
class _Batch:
    """Up to a batch's rows to write, the records skipped among them (in file order), and
    the bytes of the file read up to there."""

    rows: list[Row] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    offset: int = 0


def _batches(records: Records, rows: Iterable["Row | Rejected"], size: int) -> Iterator[_Batch]:
    """`rows` grouped into batches of `size` rows, each with the records skipped since the
    previous one; the last batch may hold no row."""
    batch = _Batch()
    for row in rows:
        if not isinstance(row, Row):
            batch.rejected.append(row)
            continue
        batch.rows.append(row)
        if len(batch.rows) == size:
            batch.offset = records.offset
            yield batch
            batch = _Batch()
    if batch.rows or batch.rejected:
        batch.offset = records.offset
        yield batch


@contextmanager
def _read_ahead(batches: Iterator[_Batch]) -> Iterator[Iterator[_Batch]]:
    """`batches`, each read (decoded, parsed, checked) in a thread while the previous one is
    written: SQLite and psycopg let go of the interpreter while the database works, so reading
    the file and writing it overlap. The thread touches neither the database nor the result
    (the batches carry their skipped records to the caller), and is stopped on exit."""
    queue: Queue = Queue(maxsize=1)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def read() -> None:
        try:
            for batch in batches:
                if not put(batch):
                    return
            put(None)
        except BaseException as error:  # handed to the caller, raised there
            put(error)

    def received() -> Iterator[_Batch]:
        while (item := queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item

    thread = threading.Thread(target=read, name="import-reader", daemon=True)
    thread.start()
    try:
        yield received()
    finally:
        stop.set()
        thread.join()
