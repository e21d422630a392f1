"""Bands of durations for the statistics' medians and percentiles (issue 19): each row of
stats_durations gets the band of its milliseconds (tellcity.stats.daily.band), read through a
new index that starts with it, and stats_duration_bands counts the durations per band, city,
measure, cell and local month, filled here from stats_durations (set-based: one UPDATE, one
INSERT ... SELECT).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 01:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

INDEX_COLUMNS = (
    *("city_id", "measure", "band", "day", "department_id", "category_id", "zone_id"),
    *("kind", "is_public", "milliseconds", "count"),
)


def upgrade():
    from tellcity.stats.daily import band_sql, fill_bands

    op.add_column(
        "stats_durations",
        sa.Column("band", sa.SmallInteger(), server_default="0", nullable=False),
    )
    durations = sa.table("stats_durations", sa.column("milliseconds"), sa.column("band"))
    op.execute(sa.update(durations).values(band=band_sql(durations.c.milliseconds)))
    op.create_index("ix_stats_durations_band", "stats_durations", list(INDEX_COLUMNS))
    op.create_table(
        "stats_duration_bands",
        sa.Column("measure", sa.SmallInteger(), nullable=False),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("is_public", sa.SmallInteger(), nullable=False),
        sa.Column("band", sa.SmallInteger(), nullable=False),
        sa.Column("count", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"],
            ["cities.id"],
            name=op.f("fk_stats_duration_bands_city_id_cities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            *("measure", "city_id", "month", "department_id", "category_id", "zone_id"),
            *("kind", "is_public", "band"),
            name=op.f("pk_stats_duration_bands"),
        ),
        sqlite_with_rowid=False,
    )
    fill_bands(op.get_bind(), sa.true())


def downgrade():
    op.drop_table("stats_duration_bands")
    op.drop_index("ix_stats_durations_band", table_name="stats_durations")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE stats_durations DROP COLUMN band")  # in place (3.35+)
    else:
        op.drop_column("stats_durations", "band")
