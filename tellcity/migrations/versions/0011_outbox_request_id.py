"""Outbox messages keep the id of the request that queued them (`request_id`, the
X-Request-ID the app answered with), so an operator can follow a message back to the request's
log line. Messages queued before, and those the worker queues, have none (NULL).

Plain ADD/DROP COLUMN on both backends, not a batch operation (see 0005: a batch copy of a
table drops it, and its cascades with it).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 21:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("outbox_messages", sa.Column("request_id", sa.String(length=64), nullable=True))


def downgrade():
    op.drop_column("outbox_messages", "request_id")
