"""Open311 client delivery (issue 22): placeholder, filled by its author

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 00:15:00

"""

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
