"""Per-day statistics aggregates (issue 19): placeholder, filled by its author

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 00:15:00

"""

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
