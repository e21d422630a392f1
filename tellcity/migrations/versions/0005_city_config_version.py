"""Cities: `geometry_version` renamed `config_version`. It has long versioned the whole of a
city's configuration (the city row, its zones, categories, departments and routing rules),
which every process keeps and checks against it (tellcity.core.caches), not only its geometry.

A plain column rename on both backends (SQLite >= 3.25 and PostgreSQL alike), not a batch
operation: on SQLite a batch alter copies the table and drops the old one, and with foreign
keys enforced dropping `cities` would delete its zones, departments and reports with it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 10:00:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.alter_column("cities", "geometry_version", new_column_name="config_version")


def downgrade():
    op.alter_column("cities", "config_version", new_column_name="geometry_version")
