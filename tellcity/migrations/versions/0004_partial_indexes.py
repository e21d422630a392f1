"""Reports and events: the columns most rows leave empty (the assignee, the original of a
duplicate, the outside body, the signed-in reporter, the closing time, an event's actor) are
indexed only where they are set. A new report then writes six index entries fewer, and every
lookup of a value (`= ?`, a range) still uses its index.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 08:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: (table, columns): each index is on the columns, where the last one is set.
PARTIAL = [
    ("reports", ["city_id", "closed_at"]),
    ("reports", ["assignee_id"]),
    ("reports", ["duplicate_of_id"]),
    ("reports", ["referred_to_id"]),
    ("reports", ["reporter_id"]),
    ("report_events", ["actor_id"]),
]


def _name(table: str, columns: list[str]) -> str:
    return f"ix_{table}_{'_'.join(columns)}"


def upgrade():
    for table, columns in PARTIAL:
        where = sa.text(f"{columns[-1]} IS NOT NULL")
        op.drop_index(_name(table, columns), table_name=table)
        op.create_index(
            _name(table, columns), table, columns, sqlite_where=where, postgresql_where=where
        )


def downgrade():
    for table, columns in PARTIAL:
        op.drop_index(_name(table, columns), table_name=table)
        op.create_index(_name(table, columns), table, columns)
