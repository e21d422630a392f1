"""public_versions: one row per city whose reports changed, with a number that changes with every
change a public answer could show (tellcity.reports.versions), so that the answers clients
poll carry an ETag known before they are built. Cities get their row at their first change.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 22:15:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "public_versions",
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"],
            ["cities.id"],
            name=op.f("fk_public_versions_city_id_cities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("city_id", name=op.f("pk_public_versions")),
    )


def downgrade():
    op.drop_table("public_versions")
