"""Statistics snapshots: the finished figures of a city for one set of filters, shared by every
process for a few minutes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 02:30:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tellcity.core.db

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stats_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("computed_at", tellcity.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "document",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["city_id"],
            ["cities.id"],
            name=op.f("fk_stats_snapshots_city_id_cities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_snapshots")),
        sa.UniqueConstraint("city_id", "key", name=op.f("uq_stats_snapshots_city_id_key")),
    )


def downgrade():
    op.drop_table("stats_snapshots")
