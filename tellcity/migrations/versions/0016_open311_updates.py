"""Open311 updates followed back (issue 22): whether a department's own Open311 system
answers mySociety's servicerequestupdates (`departments.open311_offers_updates`, unknown until
the worker first asks; tellcity.open311.client.updates).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 00:15:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("departments", sa.Column("open311_offers_updates", sa.Boolean(), nullable=True))


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        # In place on SQLite (3.35+): no constraint names the column.
        op.execute("ALTER TABLE departments DROP COLUMN open311_offers_updates")
    else:
        op.drop_column("departments", "open311_offers_updates")
