"""Reports: the index (category_id, status, created_at) in place of (category_id), for a
category's open recent reports and the queue's category filter at a million reports.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 02:10:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reports_category_id_status_created_at"),
            ["category_id", "status", "created_at"],
            unique=False,
        )
        batch_op.drop_index(batch_op.f("ix_reports_category_id"))


def downgrade():
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reports_category_id"), ["category_id"], unique=False)
        batch_op.drop_index(batch_op.f("ix_reports_category_id_status_created_at"))
