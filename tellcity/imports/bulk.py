"""Multi-row inserts through the database driver, for imports."""

import sqlite3
from collections.abc import Hashable, Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from tellcity.core.db import UTCDateTime
from tellcity.extensions import db

_MISSING = object()


class BulkInsert:
    """Inserts many rows into some `columns` of a table at once, their values handed straight
    to the driver (multi-row INSERT statements on SQLite, COPY on PostgreSQL):
    SQLAlchemy's per-row work (a dict per row, each value through its type) would cost more
    than SQLite's own.

    The values are therefore given as the driver takes them. Columns whose type converts its
    values (timestamps, JSON, booleans) are `bound`: pass their values through `bind`, which
    applies the column type's own conversion once per distinct value (an export repeats the
    same minute and the same status thousands of times). Float columns take Python floats,
    which their conversion leaves as they are; any other converting column is refused. The
    columns left out get their Python-side scalar default, converted once, as the ORM would
    give them; one with a computed default (utcnow...) must be given.
    """

    CACHE_SIZE = 200_000
    #: Rows inserted by one statement on SQLite (a multi-row VALUES), where it takes as many
    #: parameters: SQLite sets a CHECK's `IN (...)` list of constants up once per statement,
    #: where executemany would do it for every row, and the reports table has three of them.
    ROWS_PER_STATEMENT = 500
    #: SQLite's page cache for the connection inserting, in KiB (its default is 2 MB). An
    #: export's rows land at scattered places of the reports table's dozen indexes, whose pages
    #: would otherwise be read again from the file and spilled to the log within a batch: a
    #: tenth less of SQLite's work at 200,000 rows. The cache grows only as far as it is used,
    #: and only the import's process (the CLI) inserts this way.
    SQLITE_CACHE_KIB = 128 * 1024

    def __init__(
        self, table: sa.Table, columns: Sequence[str], bound: Sequence[str], dialect: Dialect
    ):
        self.processors = {}
        #: Each bound column's cache of converted values, shared by the columns of the same
        #: type (a report's updated_at is its closed_at).
        self._caches: dict[str, dict[Hashable, object]] = {}
        by_type: dict[type, dict[Hashable, object]] = {}
        for name in bound:
            column_type = table.c[name].type
            self.processors[name] = _processor(column_type, dialect)
            self._caches[name] = by_type.setdefault(type(column_type), {})
        for name in columns:
            if name not in bound:
                _check_as_given(table.c[name], dialect)
        defaults = [
            column
            for column in table.columns
            if column.name not in columns and column.default is not None
        ]
        #: The values of the columns left out, appended to every row.
        self.defaults = tuple(_default(column, dialect) for column in defaults)
        names = [*columns, *(column.name for column in defaults)]
        self.width = len(names)
        self.insert, self.placeholders = _insert_sql(table, names, dialect)
        self.copy = self.insert.replace("INSERT INTO", "COPY", 1) + " FROM STDIN"
        #: The statement inserting N rows, by N.
        self._statements: dict[int, str] = {}

    def bind(self, name: str, value):
        """`value` as the database driver takes it for the bound column `name`: what the
        column's own type would send."""
        if value is None:
            return None
        cache = self._caches[name]
        try:
            bound = cache.get(value, _MISSING)
        except TypeError:  # not hashable (a dict for a JSON column): not cached
            return self._convert(name, value)
        if bound is _MISSING:
            if len(cache) >= self.CACHE_SIZE:
                cache.clear()
            bound = cache[value] = self._convert(name, value)
        return bound

    def _convert(self, name: str, value):
        processor = self.processors[name]
        return processor(value) if processor else value

    def execute(self, rows: list[tuple]) -> None:
        """Insert `rows` (tuples of the values of `columns`, in order, bound values bound) in
        the session's transaction."""
        connection = db.session.connection()
        defaults = self.defaults
        driver_connection = connection.connection.dbapi_connection
        if not isinstance(driver_connection, sqlite3.Connection):
            # COPY streams the rows without a statement each (psycopg's executemany pipelines
            # an INSERT per row): an import of 100,000 rows took 2.3 times less time. The
            # values are the same Python objects, dumped by the same psycopg adapters.
            driver = connection.dialect.dbapi
            try:
                with driver_connection.cursor() as cursor, cursor.copy(self.copy) as copy:
                    for row in rows:
                        copy.write_row(row + defaults)
            except driver.Error as error:  # raised as SQLAlchemy raises the driver's errors
                raise sa.exc.DBAPIError.instance(self.copy, None, error, driver.Error) from error
            return
        connection.exec_driver_sql(f"PRAGMA cache_size = -{self.SQLITE_CACHE_KIB}")
        limit = driver_connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        size = max(1, min(self.ROWS_PER_STATEMENT, limit // self.width))
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            values = [value for row in chunk for value in (*row, *defaults)]
            connection.exec_driver_sql(self._statement(len(chunk)), tuple(values))

    def _statement(self, count: int) -> str:
        try:
            return self._statements[count]
        except KeyError:
            statement = self._statements[count] = (
                f"{self.insert} VALUES {', '.join([self.placeholders] * count)}"
            )
            return statement


def _processor(column_type: sa.types.TypeEngine, dialect: Dialect):
    """The bind conversion of `column_type`: its own, or an equivalent several times faster
    (tests/imports checks that the stored values are the same)."""
    if isinstance(column_type, UTCDateTime) and dialect.name == "sqlite":
        return _sqlite_utc_text
    return column_type.dialect_impl(dialect).bind_processor(dialect)


def _sqlite_utc_text(value: datetime) -> str:
    """What UTCDateTime stores in SQLite: the time in UTC, as SQLite's DATETIME writes it
    ("2020-01-01 08:05:00.000000")."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: pass an aware datetime")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _check_as_given(column: sa.Column, dialect: Dialect) -> None:
    """Raises TypeError if the driver cannot take the values of `column` as given."""
    if column.type.dialect_impl(dialect).bind_processor(dialect) is None:
        return
    if isinstance(column.type, sa.Float) and not column.type.asdecimal:
        return  # float(), which leaves a Python float as it is
    raise TypeError(f"{column} converts its values: give it in `bound`")


def _default(column: sa.Column, dialect: Dialect):
    """The value of `column` when a row does not give it, as the driver takes it."""
    if not column.default.is_scalar:
        raise TypeError(f"{column} has a computed default: give its value")
    processor = column.type.dialect_impl(dialect).bind_processor(dialect)
    value = column.default.arg
    return processor(value) if processor and value is not None else value


def _insert_sql(table: sa.Table, names: list[str], dialect: Dialect) -> tuple[str, str]:
    """`INSERT INTO table (names...)` and the placeholders of one row, `(?, ...)`, in the
    driver's parameter style."""
    quote = dialect.identifier_preparer
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    columns = ", ".join(quote.format_column(table.c[name]) for name in names)
    placeholders = ", ".join([marker] * len(names))
    return f"INSERT INTO {quote.format_table(table)} ({columns})", f"({placeholders})"
