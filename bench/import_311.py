"""How fast `tellcity import-311` loads 311 exports, against a bare insert.

    python bench/import_311.py [--database postgresql://postgres@127.0.0.1:5432/test]
                               [--rows 200000] [--repeat 1]

Each of the two real exports (LA-shaped and Baltimore-shaped, 10,000 rows each) is repeated
with fresh ids (`-r2`, `-r3`... after the source's) into a file of --rows rows, written to a
temporary folder; each file is imported into a fresh database (a temporary SQLite file; with
--database, also a scratch database created on that PostgreSQL server and dropped afterwards),
migrated to the latest schema. The baseline, measured in the same run on the same database, is
a bare DB-API `executemany` of as many rows into a table as wide as `reports`, without indexes,
in the import's batches with a commit each. The ratio printed is the import's rate over the
bare insert's (goal: at least 0.5): what parsing, mapping, the checks and the reports table's
indexes cost on top of writing the bytes. For context, a second baseline inserts the imported
reports again, as stored, into a copy of the reports table with its indexes, constraints and
foreign keys (the same executemany, batches and commits): what the database's own work on that
table costs, which no importer can avoid; its ratio is printed beside. The best of --repeat runs
is kept.
"""

import argparse
import contextlib
import csv
import io
import re
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tellcity import create_app
from tellcity.core.migrations import upgrade
from tellcity.extensions import db
from tellcity.imports.mapping import ImportMapping, load_profile
from tellcity.imports.services import BATCH_SIZE, import_file
from tellcity.reports.models import Report

DATA = Path(__file__).parent / "data" / "311"
FILES = [("la_311_requests.csv", "la"), ("baltimore_311_sample.csv", "baltimore")]
#: The import's rate over the bare insert's it should reach on both databases.
TARGET_RATIO = 0.5


@dataclass
class Timing:
    backend: str
    file: str
    rows: int
    imported: int
    seconds: float
    baseline_seconds: float
    #: CPU seconds of this process (SQLite's work included, not PostgreSQL's server's).
    cpu: float
    baseline_cpu: float
    #: The same rows inserted into a copy of the reports table, indexes and all.
    indexed_seconds: float

    @property
    def indexed_rate(self) -> float:
        """Reports written a second by that insert (the import's `imported`, not `rows`)."""
        return self.imported / self.indexed_seconds

    @property
    def indexed_ratio(self) -> float:
        """The import's speed over that insert's, for the same reports."""
        return self.indexed_seconds / self.seconds

    @property
    def rate(self) -> float:
        return self.rows / self.seconds

    @property
    def baseline_rate(self) -> float:
        return self.rows / self.baseline_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", help="a PostgreSQL URL to run on too (a scratch database)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per file; the best is kept")
    parser.add_argument("--rows", type=int, default=200_000, help="rows of each file imported")
    args = parser.parse_args()
    backends = [("sqlite", None)] + ([("postgresql", args.database)] if args.database else [])
    with tempfile.TemporaryDirectory(prefix="tellcity-bench-files-") as folder:
        files = [
            (repeated(DATA / file, load_profile(profile), Path(folder), args.rows), profile)
            for file, profile in FILES
        ]
        timings = [
            best(backend, url, file, profile, args.repeat)
            for backend, url in backends
            for file, profile in files
        ]
    report(timings)


def repeated(source: Path, mapping: ImportMapping, folder: Path, rows: int) -> Path:
    """A file of `rows` rows: those of `source` again and again, each copy's ids (the column
    `mapping` reads them from) made new."""
    target = folder / f"{source.stem}_{rows}.csv"
    with (
        source.open(newline="", encoding="utf-8-sig") as infile,
        target.open("w", newline="", encoding="utf-8") as outfile,
    ):
        header, *records = csv.reader(infile)
        key = header.index(mapping.columns["id"])
        writer = csv.writer(outfile)
        writer.writerow(header)
        written, copy = 0, 1
        while written < rows:
            for record in records[: rows - written]:
                if copy > 1:
                    record = [*record[:key], f"{record[key]}-r{copy}", *record[key + 1 :]]
                writer.writerow(record)
            written += min(len(records), rows - written)
            copy += 1
    return target


def best(backend: str, server_url: str | None, file: Path, profile: str, repeat: int) -> Timing:
    """The fastest of `repeat` imports of `file`, each into a fresh database."""
    runs = [run_once(backend, server_url, file, profile) for _ in range(repeat)]
    return min(runs, key=lambda timing: timing.seconds)


def run_once(backend: str, server_url: str | None, file: Path, profile: str) -> Timing:
    with (
        tempfile.TemporaryDirectory(prefix="tellcity-bench-") as tmp,
        scratch_database(backend, server_url, Path(tmp)) as url,
    ):
        app = create_app({"INSTANCE_PATH": tmp, "DATABASE_URL": url, "SECRET_KEY": "bench"})
        with app.app_context():
            with contextlib.redirect_stderr(io.StringIO()):  # Alembic's log lines
                upgrade()
            cpu = time.process_time()
            result = import_file(file, load_profile(profile))
            cpu = time.process_time() - cpu
            baseline, baseline_cpu = bare_insert_seconds(result.rows)
            indexed = indexed_insert_seconds()
            db.session.remove()
            db.engine.dispose()
    return Timing(
        backend,
        file.name,
        result.rows,
        result.imported,
        result.seconds,
        baseline,
        cpu,
        baseline_cpu,
        indexed,
    )


class scratch_database:
    """A fresh, empty database: a SQLite file in `tmp`, or a database created on the server of
    `server_url` and dropped on exit."""

    def __init__(self, backend: str, server_url: str | None, tmp: Path):
        self.backend, self.tmp = backend, tmp
        self.server = (
            make_url(server_url).set(drivername="postgresql+psycopg") if server_url else None
        )
        self.name = f"tellcity_bench_{uuid.uuid4().hex[:12]}"

    def __enter__(self) -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self.tmp / 'bench.sqlite3'}"
        self._execute(f'CREATE DATABASE "{self.name}"')
        return self.server.set(database=self.name).render_as_string(hide_password=False)

    def __exit__(self, *exc) -> None:
        if self.backend != "sqlite":
            self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def _execute(self, sql: str) -> None:
        engine = sa.create_engine(self.server, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(sa.text(sql))
        engine.dispose()


def bare_insert_seconds(rows: int) -> tuple[float, float]:
    """Seconds (and CPU seconds of this process) to insert `rows` rows as wide as the reports
    table into a table without indexes with the driver's own executemany, in the import's
    batches, committing each."""
    width = len(Report.__table__.columns) - 1  # beside the id
    columns = [f"c{i}" for i in range(width)]
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        key = "INTEGER" if db.engine.dialect.name == "sqlite" else "BIGSERIAL"
        texts = ", ".join(f"{column} TEXT" for column in columns)
        cursor.execute(f"CREATE TABLE bench_baseline (id {key} PRIMARY KEY, {texts})")
        connection.commit()
        marker = "?" if db.engine.dialect.name == "sqlite" else "%s"
        sql = (
            f"INSERT INTO bench_baseline ({', '.join(columns)}) "
            f"VALUES ({', '.join([marker] * width)})"
        )
        seconds = cpu = 0.0
        for start in range(0, rows, BATCH_SIZE):
            values = [
                tuple(f"value {row} {column}" for column in range(width))
                for row in range(start, min(rows, start + BATCH_SIZE))
            ]
            started, cpu_started = time.perf_counter(), time.process_time()
            cursor.executemany(sql, values)
            connection.commit()
            seconds += time.perf_counter() - started
            cpu += time.process_time() - cpu_started
        return seconds, cpu
    finally:
        connection.close()


def indexed_insert_seconds() -> float:
    """Seconds to insert the reports the import wrote again, as stored, into a copy of the
    reports table (its indexes, CHECKs, unique and foreign keys), with the driver's own
    executemany, in the import's batches, committing each."""
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        columns = [column.name for column in Report.__table__.columns if column.name != "id"]
        names = ", ".join(columns)
        if db.engine.dialect.name == "sqlite":
            _copy_reports_table_sqlite(cursor)
            select = f"SELECT id, {names} FROM reports WHERE id > ? ORDER BY id LIMIT ?"
            marker = "?"
        else:
            _copy_reports_table_postgresql(cursor)
            texts = ", ".join(f"{name}::text" for name in columns)  # the server converts back
            select = f"SELECT id, {texts} FROM reports WHERE id > %s ORDER BY id LIMIT %s"
            marker = "%s"
        connection.commit()
        values = ", ".join([marker] * len(columns))
        insert = f"INSERT INTO bench_reports ({names}) VALUES ({values})"
        seconds, last = 0.0, 0
        while rows := cursor.execute(select, (last, BATCH_SIZE)).fetchall():
            last = rows[-1][0]
            batch = [row[1:] for row in rows]
            started = time.perf_counter()
            cursor.executemany(insert, batch)
            connection.commit()
            seconds += time.perf_counter() - started
        return seconds
    finally:
        connection.close()


def _copy_reports_table_sqlite(cursor) -> None:
    for (sql,) in cursor.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'reports' AND sql IS NOT NULL "
        "ORDER BY type = 'index'"
    ).fetchall():
        sql = re.sub(r"^CREATE TABLE reports ", "CREATE TABLE bench_reports ", sql)
        sql = re.sub(r"INDEX (\w+) ON reports ", r"INDEX bench_\1 ON bench_reports ", sql)
        cursor.execute(sql)


def _copy_reports_table_postgresql(cursor) -> None:
    cursor.execute("CREATE TABLE bench_reports (LIKE reports INCLUDING ALL)")
    foreign_keys = cursor.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'reports'::regclass AND contype = 'f'"
    ).fetchall()
    for (definition,) in foreign_keys:
        cursor.execute(f"ALTER TABLE bench_reports ADD {definition}")


def report(timings: list[Timing]) -> None:
    """Print one line per backend and file, then the totals and whether the goal is met."""
    print(f"{'backend':<11}{'file':<37}{'rows':>9}{'imported':>10}{'s':>8}{'rows/s':>9}", end="")
    print(f"{'bare rows/s':>13}{'ratio':>7}{'CPU ratio':>11}{'indexed rows/s':>16}{'ratio':>7}")
    for backend in dict.fromkeys(timing.backend for timing in timings):
        mine = [timing for timing in timings if timing.backend == backend]
        total = Timing(
            backend,
            "both files",
            sum(t.rows for t in mine),
            sum(t.imported for t in mine),
            sum(t.seconds for t in mine),
            sum(t.baseline_seconds for t in mine),
            sum(t.cpu for t in mine),
            sum(t.baseline_cpu for t in mine),
            sum(t.indexed_seconds for t in mine),
        )
        for timing in [*mine, total]:
            print(
                f"{timing.backend:<11}{timing.file:<37}{timing.rows:>9,}{timing.imported:>10,}"
                f"{timing.seconds:>8.2f}{timing.rate:>9,.0f}{timing.baseline_rate:>13,.0f}"
                f"{timing.rate / timing.baseline_rate:>7.2f}"
                f"{timing.baseline_cpu / timing.cpu:>11.2f}"
                f"{timing.indexed_rate:>16,.0f}{timing.indexed_ratio:>7.2f}"
            )
        verdict = "met" if total.rate / total.baseline_rate >= TARGET_RATIO else "NOT met"
        print(f"{'':<11}goal: a ratio of {TARGET_RATIO} or more on {backend}: {verdict}")
    print("ratio: the import's rows/s over the bare executemany's of as many rows")
    print(
        "indexed: the imported reports inserted again by the same executemany into a copy of "
        "the reports table, indexes, constraints and foreign keys included (context): its "
        "rows/s count the reports written, its ratio is the import's speed over its own"
    )
    print(
        "CPU ratio: the same in this process's CPU seconds, which hold all of SQLite's work "
        "(and none of PostgreSQL's server's): on a loaded machine, the steadier figure for SQLite"
    )


if __name__ == "__main__":
    sys.exit(main())
