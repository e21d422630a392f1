"""The schema is made by migrations: from an empty database they build exactly the models'
schema, with its constraints, and they unwind to nothing."""

from datetime import datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.dialects.postgresql import JSONB
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


OLD_EVENTS = [
    # (type, to_value, text, data): events as the code before 0007 wrote them.
    ("created", None, "Routed to Voirie (default department of pothole)", {"routing": {}}),
    ("transfer", "proprete", "Rerouted (rule #3: pothole in any zone)", {"routing": {}}),
    ("transfer", "proprete", "Rerouted (typed by an agent)", None),
    ("merge", None, "Merged with ISS-2026-000002, ISS-2026-000003", {"merged": ["X"]}),
    ("merge", None, "Fusionné avec ISS-2026-000002", {"merged": ["X"]}),
    (
        "status_change",
        "duplicate",
        "Merged into ISS-2026-000001, which follows the same problem.",
        {"duplicate_of": 1},
    ),
    ("status_change", "duplicate", "Ce problème est déjà suivi dans ISS-2026-000001.", None),
    ("status_change", "duplicate", "Merged into the other one, see there", None),
    ("escalation", None, "Overdue since 2026-12-04 13:00 UTC: escalated to a@x.org, b@y.org", None),
    ("escalation", None, "Overdue since 2026-12-04 13:00 UTC: escalated to no manager", None),
    ("escalation", None, "Overdue, call Marc", None),
    ("edit", None, "category", None),
    ("public_reply", None, "Routed to the right team", None),
]
EVENTS = sa.table(
    "report_events",
    sa.column("id", sa.BigInteger),
    sa.column("report_id", sa.BigInteger),
    sa.column("type", sa.String),
    sa.column("actor_label", sa.String),
    sa.column("to_value", sa.String),
    sa.column("text", sa.Text),
    sa.column("data", sa.JSON().with_variant(JSONB(), "postgresql")),
    sa.column("is_public", sa.Boolean),
    sa.column("is_hidden", sa.Boolean),
    sa.column("created_at", sa.DateTime),
)


def test_events_written_as_english_sentences_become_codes(empty_app):
    """Migration 0007: no system-made sentence stays in an event's text; the words a person
    typed, and a text that does not parse, stay as they were."""
    upgrade(revision="0006")
    with db.engine.begin() as connection:
        connection.execute(sa.text(INSERT_CITY.format(version="config_version")))
        connection.execute(sa.text(INSERT_DEPARTMENT))
        connection.execute(sa.text(INSERT_CATEGORY))
        connection.execute(sa.text(INSERT_REPORT))
        connection.execute(
            EVENTS.insert(),
            [
                {
                    "report_id": 1,
                    "type": type_,
                    "actor_label": "x",
                    "to_value": to,
                    "text": text,
                    "data": data,
                    "is_public": False,
                    "is_hidden": False,
                    "created_at": datetime(2026, 12, 4, 14, 0),
                }
                for type_, to, text, data in OLD_EVENTS
            ],
        )
    upgrade()
    with db.engine.connect() as connection:
        rows = connection.execute(sa.select(EVENTS.c.text, EVENTS.c.data).order_by(EVENTS.c.id))
        migrated = [tuple(row) for row in rows]
    assert migrated == [
        ("", {"routing": {}}),
        ("", {"routing": {}}),
        ("Rerouted (typed by an agent)", None),
        ("", {"merged": ["X"]}),
        ("", {"merged": ["X"]}),
        ("", {"duplicate_of": 1, "message": "merged_into", "reference": "ISS-2026-000001"}),
        ("", {"message": "already_followed", "reference": "ISS-2026-000001"}),
        ("Merged into the other one, see there", None),
        (
            "",
            {
                "message": "escalation",
                "due_at": "2026-12-04T13:00:00+00:00",
                "contacts": ["a@x.org", "b@y.org"],
                "via": "managers",
            },
        ),
        (
            "",
            {
                "message": "escalation",
                "due_at": "2026-12-04T13:00:00+00:00",
                "contacts": [],
                "via": "managers",
            },
        ),
        ("Overdue, call Marc", None),
        ("", {"field": "category"}),
        ("Routed to the right team", None),
    ]


INSERT_DEPARTMENT = (
    "INSERT INTO departments (id, city_id, slug, name, delivery_method, is_external, is_triage,"
    " is_imported, created_at) VALUES (1, 1, 'voirie', 'Voirie', 'dashboard', false, true,"
    " false, CURRENT_TIMESTAMP)"
)
INSERT_CATEGORY = (
    "INSERT INTO categories (id, city_id, kind, code, name_fr, name_en, description_fr,"
    " description_en, group_fr, group_en, keywords, default_priority, attributes, is_active,"
    " is_imported, position, created_at) VALUES (1, 1, 'problem', 'pothole', 'Nid', 'Hole', '',"
    " '', '', '', '', 3, '[]', true, false, 0, CURRENT_TIMESTAMP)"
)
INSERT_REPORT = (
    "INSERT INTO reports (id, city_id, reference, kind, category_id, status, priority,"
    " department_id, lat, lon, address, description, support_count, source, notify_reporter,"
    " locale, is_hidden, created_at, updated_at) VALUES (1, 1, 'ISS-2026-000001', 'problem', 1,"
    " 'new', 3, 1, 48.82, 2.27, '', '', 0, 'web', true, 'fr', false, CURRENT_TIMESTAMP,"
    " CURRENT_TIMESTAMP)"
)
