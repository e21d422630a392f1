"""The declarative base, column types that behave the same on SQLite and PostgreSQL, and the
SQLite connection settings."""

import functools
import re
import sqlite3
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, make_transient_to_detached

# Stable constraint names, so that migrations can drop and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


#: Primary keys of the tables that grow with the city (reports, events, outbox): 64-bit on
#: PostgreSQL, SQLite's rowid (which is already 64-bit and only autoincrements as INTEGER).
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

#: JSON documents: JSONB on PostgreSQL, JSON text on SQLite.
Json = sa.JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(sa.TypeDecorator):
    """A timestamp stored in UTC and always read back as an aware UTC datetime.

    PostgreSQL keeps the offset (timestamptz); SQLite stores a naive text value, so the offset
    is put back on reading. Naive datetimes are refused rather than guessed at.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def result_processor(self, dialect, coltype):
        """On SQLite, the stored text read by `datetime.fromisoformat` in one step, where
        SQLAlchemy's DATETIME matched a regular expression and built the datetime from its
        groups before the offset was put back (a fifth of the CPU of a page of 100 Open311
        requests); a text it cannot read goes the usual way."""
        usual = super().result_processor(dialect, coltype)
        if dialect.name != "sqlite":
            return usual

        def process(value):
            if value is None:
                return None
            try:
                moment = datetime.fromisoformat(value)
            except (TypeError, ValueError):
                return usual(value) if usual is not None else value
            if moment.tzinfo is None:
                return moment.replace(tzinfo=UTC)
            return moment.astimezone(UTC)

        return process


def utcnow() -> datetime:
    """The current time, aware, in UTC: the only clock the models use."""
    return datetime.now(UTC)


def in_list(column: str, values) -> str:
    """SQL text for a CHECK that `column` takes one of `values` (all plain identifiers)."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


def write_new(session: Session, obj, *, keep: bool = True) -> None:
    """INSERT the new object `obj` now, with one statement outside the unit of work, and make
    it persistent in `session`: its primary key set, what was given kept as loaded, what the
    database or a column default filled in expired (read again if asked for). With `keep`
    False, the row is written and its key set, but the object stays out of the session: for
    a row nothing reads again in this transaction (putting it in costs more than its INSERT's
    own work on SQLite).

    For the hot paths that write a few known rows (a submission: the report, its first event,
    its notification): a flush works out the order of everything pending, the cascades and the
    history of every attribute, which costs more than the INSERT itself. Many-to-one
    relationships to persistent objects give their keys; a collection must be empty.
    """
    state = sa.inspect(obj)
    mapper = state.mapper
    values = {}
    for prop in mapper.column_attrs:
        if prop.key in state.dict:
            values[prop.columns[0].key] = state.dict[prop.key]
    for relationship in mapper.relationships:
        related = state.dict.get(relationship.key)
        if relationship.uselist:
            if related:
                raise ValueError(f"write_new cannot write {relationship} (not empty)")
        elif related is not None:
            related_mapper = sa.inspect(related).mapper
            for local, remote in relationship.local_remote_pairs:
                key = getattr(related, related_mapper.get_property_by_column(remote).key)
                if key is None:
                    raise ValueError(f"write_new: {relationship} names an unwritten object")
                values[local.key] = key
    connection = session.connection(bind_arguments={"mapper": mapper})
    new_id = connection.execute(_insert(mapper.local_table), values).inserted_primary_key[0]
    setattr(obj, mapper.get_property_by_column(mapper.primary_key[0]).key, new_id)
    if keep:
        make_transient_to_detached(obj)
        session.add(obj)


@functools.cache
def _insert(table: sa.Table) -> sa.Insert:
    """The table's INSERT, built once. No RETURNING: SQLite gives the new row's id by itself,
    and an INSERT ... RETURNING into a table with foreign keys needs a statement journal there
    (a report's spilled to a temporary file); PostgreSQL gets RETURNING all the same."""
    return table.insert()


@functools.cache
def counter_upsert(
    dialect_name: str, table: sa.Table, keys: tuple[str, ...], column: str, returning: bool
):
    """The statement that adds 1 to `column` of the row of `table` whose `keys` are the bound
    parameters of the same names, or makes that row with 1: one atomic statement on SQLite and
    PostgreSQL alike (INSERT ... ON CONFLICT DO UPDATE), built once per dialect and table;
    with `returning`, it returns the new count (on SQLite, a RETURNING into a table with
    foreign keys costs a statement journal: ask only when the count is needed)."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = (
        dialect.insert(table)
        .values({**{key: sa.bindparam(key) for key in keys}, column: 1})
        .on_conflict_do_update(index_elements=list(keys), set_={column: table.c[column] + 1})
    )
    return statement.returning(table.c[column]) if returning else statement


def constants(values) -> list[sa.ColumnElement]:
    """Our own words (statuses, event types) written into a statement's text, for an IN list
    of constants: bound, such a list is expanded again at every execution, a tenth of the CPU
    of a small read."""
    words = sorted(str(value) for value in values)
    for word in words:
        if not re.fullmatch(r"[a-z_]+", word):
            raise ValueError(f"not one of our words: {word!r}")
    return [sa.literal_column(f"'{word}'") for word in words]


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, connection_record):
    """WAL lets readers work while one writer writes; SQLite enforces foreign keys only when
    asked, on every connection."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 10000")
    if cursor.execute("PRAGMA database_list").fetchone()[2]:  # a file, not :memory:
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        # Copy the log into the database every 10,000 pages (40 MB) rather than 1,000: a
        # submission writes ~25 pages, mostly the same hot ones (the ends of its indexes),
        # which one checkpoint copies once; and the committing request waits for its fsyncs
        # ten times less often.
        cursor.execute("PRAGMA wal_autocheckpoint = 10000")
    cursor.close()


def refresh_planner_statistics(engine: Engine) -> None:
    """Let SQLite's query planner know the tables' sizes and how selective each index is.

    SQLite keeps no statistics unless asked (PostgreSQL's autovacuum does it by itself), and
    without them it takes any index that matches an equality, such as (city_id, external_id)
    for `city_id = ?`, and scans a whole city's reports for the map. A full ANALYZE (not one
    limited to a sample, which misjudged city_id here) takes a few seconds at a million
    reports: run by `tellcity init` and every day by the worker."""
    if engine.dialect.name == "sqlite":
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
