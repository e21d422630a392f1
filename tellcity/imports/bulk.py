"""Multi-row inserts through SQLAlchemy Core, for imports."""

from collections.abc import Hashable, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from tellcity.extensions import db


class BulkInsert:
    """Inserts many rows into a table at once, binding the values of its costly columns
    (timestamps, JSON) once per distinct value rather than once per row: an export repeats the
    same minute and the same status thousands of times, and these conversions would otherwise
    cost more than SQLite's own work.

    The statement goes to a copy of the table in which the `prebound` columns take values as
    given (call `bind` for them); every other column keeps its type and its Python-side
    default, so a column added to the model later is filled as the ORM would fill it.
    """

    CACHE_SIZE = 200_000

    def __init__(self, table: sa.Table, prebound: Iterable[str], dialect: Dialect):
        self.table = table.to_metadata(sa.MetaData())
        self.processors = {}
        #: Columns of the same type share their cache (a report's updated_at is its closed_at).
        self.kinds: dict[str, type] = {}
        for name in prebound:
            column_type = table.c[name].type
            self.processors[name] = column_type.dialect_impl(dialect).bind_processor(dialect)
            self.kinds[name] = type(column_type)
            self.table.c[name].type = sa.types.NullType()
        self._cache: dict[tuple[type, Hashable], object] = {}

    def bind(self, name: str, value):
        """`value` as the database driver takes it for the prebound column `name`: what the
        column's own type would send."""
        if value is None:
            return None
        key = (self.kinds[name], value)
        try:
            return self._cache[key]
        except KeyError:
            pass
        except TypeError:  # not hashable (a dict for a JSON column): not cached
            processor = self.processors[name]
            return processor(value) if processor else value
        if len(self._cache) >= self.CACHE_SIZE:
            self._cache.clear()
        processor = self.processors[name]
        bound = self._cache[key] = processor(value) if processor else value
        return bound

    def execute(self, rows: list[dict]) -> None:
        """Insert `rows` (dicts with the same keys, prebound values bound) in one executemany."""
        if rows:
            db.session.execute(sa.insert(self.table), rows)
