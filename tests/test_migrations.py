"""The schema is made by migrations: from an empty database they build exactly the models'
schema, with its constraints, and they unwind to nothing."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

from tellcity import create_app
from tellcity.core.migrations import downgrade, upgrade
from tellcity.extensions import db
from tests.conftest import BACKENDS

REPORT_INDEXES = {
    ("department_id", "status", "created_at"),
    ("status", "due_at"),
    ("category_id", "status", "created_at"),
    ("zone_id",),
    ("lat", "lon"),
    ("city_id", "created_at"),
}


@pytest.fixture(params=BACKENDS)
def empty_app(request, tmp_path):
    """An app on an empty database: no tables at all."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    else:
        url = request.getfixturevalue("scratch_databases").create()
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": url, "SECRET_KEY": "x"})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def table_names() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def test_upgrade_from_empty_gives_exactly_the_models_schema(empty_app):
    upgrade()
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []
    assert table_names() == set(db.metadata.tables) | {"alembic_version"}


def test_migrated_schema_has_the_indexes_the_queue_map_and_stats_need(empty_app):
    upgrade()
    indexed = {
        tuple(index["column_names"]) for index in sa.inspect(db.engine).get_indexes("reports")
    }
    assert REPORT_INDEXES <= indexed


def test_columns_mostly_empty_are_indexed_only_where_set(empty_app):
    """A new report writes no entry in these indexes (migration 0004)."""
    upgrade()
    if db.engine.dialect.name == "sqlite":
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
    else:
        query = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
    with db.engine.connect() as connection:
        definitions = dict(connection.exec_driver_sql(query).all())
    for name, column in [
        ("ix_reports_city_id_closed_at", "closed_at"),
        ("ix_reports_assignee_id", "assignee_id"),
        ("ix_reports_duplicate_of_id", "duplicate_of_id"),
        ("ix_reports_referred_to_id", "referred_to_id"),
        ("ix_reports_reporter_id", "reporter_id"),
        ("ix_report_events_actor_id", "actor_id"),
    ]:
        assert f"WHERE {column} IS NOT NULL" in definitions[name].replace("(", "").replace(")", "")
    assert "WHERE" not in definitions["ix_reports_city_id_created_at"]


def test_migrated_schema_enforces_the_check_constraints(empty_app):
    upgrade()
    with pytest.raises(IntegrityError), db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO cities (slug, name, reference_prefix, boundary, center_lat,"
                " center_lon, default_zoom, timezone, locale, business_hours, is_imported,"
                " created_at) VALUES ('x', 'X', 'X', '{}', 95, 2, 14, 'UTC', 'fr', '{}',"
                " false, CURRENT_TIMESTAMP)"
            )
        )


def test_renaming_the_citys_version_keeps_the_city_and_its_zones(empty_app):
    """Migration 0005 renames cities.geometry_version config_version, both ways, in place."""
    upgrade(revision="0004")
    with db.engine.begin() as connection:
        connection.execute(sa.text(INSERT_CITY.format(version="geometry_version")))
        connection.execute(sa.text(INSERT_ZONE))
    upgrade()
    assert city_and_zones("config_version") == (7, 1)
    downgrade(revision="0004")
    assert city_and_zones("geometry_version") == (7, 1)


INSERT_CITY = (
    "INSERT INTO cities (id, slug, name, reference_prefix, boundary, center_lat, center_lon,"
    " default_zoom, timezone, locale, business_hours, {version}, is_imported, created_at)"
    " VALUES (1, 'issy', 'Issy', 'ISS', '{{}}', 48.8, 2.3, 14, 'UTC', 'fr', '{{}}', 7, false,"
    " CURRENT_TIMESTAMP)"
)
INSERT_ZONE = (
    "INSERT INTO zones (city_id, slug, name, boundary, min_lat, min_lon, max_lat, max_lon)"
    " VALUES (1, 'centre', 'Centre', '{}', 48.8, 2.2, 48.9, 2.3)"
)


def city_and_zones(version: str) -> tuple[int, int]:
    """The city's version, read from the column `version`, and how many zones it has."""
    with db.engine.connect() as connection:
        return (
            connection.execute(sa.text(f"SELECT {version} FROM cities")).scalar_one(),
            connection.execute(sa.text("SELECT count(*) FROM zones")).scalar_one(),
        )


def test_downgrade_to_base_removes_every_table(empty_app):
    upgrade()
    downgrade(revision="base")
    assert table_names() <= {"alembic_version"}
    upgrade()  # and the way back up still works
    assert set(db.metadata.tables) <= table_names()
