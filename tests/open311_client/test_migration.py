"""Migration 0014: the Open311 delivery method is allowed, asks an endpoint, and neither way
loses a department or what refers to it."""

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tellcity.core.migrations import downgrade, upgrade
from tellcity.extensions import db
from tests.test_migrations import INSERT_CATEGORY, INSERT_CITY, INSERT_DEPARTMENT
from tests.test_migrations import empty_app as empty_app  # the fixture

OPEN311_DEPARTMENT = (
    "INSERT INTO departments (id, city_id, slug, name, delivery_method, open311_endpoint,"
    " is_external, is_triage, is_imported, created_at) VALUES (2, 1, 'metropole', 'Métropole',"
    " 'open311', {endpoint}, true, false, false, CURRENT_TIMESTAMP)"
)


def count(table: str) -> int:
    with db.engine.connect() as connection:
        return connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_open311_departments_need_an_endpoint_and_survive_the_migrations(empty_app):
    upgrade(revision="0013")
    with db.engine.begin() as connection:
        connection.execute(sa.text(INSERT_CITY.format(version="config_version")))
        connection.execute(sa.text(INSERT_DEPARTMENT))
        connection.execute(sa.text(INSERT_CATEGORY))
    upgrade(revision="0014")
    with pytest.raises(IntegrityError), db.engine.begin() as connection:
        connection.execute(sa.text(OPEN311_DEPARTMENT.format(endpoint="NULL")))
    with pytest.raises(IntegrityError), db.engine.begin() as connection:
        connection.execute(
            sa.text(
                INSERT_DEPARTMENT.replace("(1, 1, 'voirie'", "(3, 1, 'fax'")
                .replace("'dashboard'", "'fax'")
                .replace("false, true", "false, false")
            )
        )
    with db.engine.begin() as connection:
        connection.execute(sa.text(OPEN311_DEPARTMENT.format(endpoint="'http://x/open311/v2'")))
        connection.execute(
            sa.text(
                "INSERT INTO open311_mappings (department_id, category_id, service_code)"
                " VALUES (2, 1, 'POT')"
            )
        )
    assert (count("departments"), count("categories")) == (2, 1)
    downgrade(revision="0013")
    assert (count("departments"), count("categories")) == (2, 1)
    with db.engine.connect() as connection:
        methods = connection.execute(
            sa.text("SELECT delivery_method FROM departments ORDER BY id")
        ).scalars()
        assert list(methods) == ["dashboard", "dashboard"]
    upgrade()
    assert count("departments") == 2
