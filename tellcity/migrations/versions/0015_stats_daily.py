"""stats_daily and stats_durations: the statistics' per-day aggregates (tellcity.stats.daily),
kept with every write of a report, and filled here from the reports already written
(set-based SQL, one INSERT ... SELECT per city and table).

The backfill runs tellcity.stats.daily.rebuild, the code `flask stats rebuild` runs: the
tables' columns here are those it writes.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 00:15:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

COUNTS = (
    "received",
    "duplicates",
    "closed_undated",
    "open",
    "closed",
    "closed_with_deadline",
    "closed_on_time",
    "resolved",
    "confirmed",
)
KEY = ("city_id", "day", "department_id", "category_id", "zone_id", "kind", "is_public")


def _key_columns() -> list[sa.Column]:
    return [
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("is_public", sa.SmallInteger(), nullable=False),
    ]


def _city_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["city_id"], ["cities.id"], name=op.f(f"fk_{table}_city_id_cities"), ondelete="CASCADE"
    )


def upgrade():
    op.create_table(
        "stats_daily",
        *_key_columns(),
        *[sa.Column(name, sa.Integer(), server_default="0", nullable=False) for name in COUNTS],
        _city_key("stats_daily"),
        sa.PrimaryKeyConstraint(*KEY, name=op.f("pk_stats_daily")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "stats_durations",
        sa.Column("measure", sa.SmallInteger(), nullable=False),
        *_key_columns(),
        sa.Column("milliseconds", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), server_default="0", nullable=False),
        _city_key("stats_durations"),
        sa.PrimaryKeyConstraint("measure", *KEY, "milliseconds", name=op.f("pk_stats_durations")),
        sqlite_with_rowid=False,
    )
    from tellcity.stats.daily import rebuild

    rebuild(op.get_bind(), bands=False)  # the schema here: 0017 adds the bands


def downgrade():
    op.drop_table("stats_durations")
    op.drop_table("stats_daily")
