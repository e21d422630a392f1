"""Subscriptions: `origin` (where the address was given: the reporter's private page, a
public page's follow form with double opt-in, a merge) and `locale` (the language of that
page, for the follower's emails). The reporter's page lists only the addresses given there:
who follows from a public page is nobody else's business.

Existing rows were all given on the reporter's page or carried over by a merge: they keep
showing there ("reporter", the server default). Plain ADD/DROP COLUMN on both backends, not a
batch operation (see 0005: a batch copy of a table drops it, and its cascades with it).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 18:45:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "subscriptions",
        sa.Column("origin", sa.String(length=16), server_default="reporter", nullable=False),
    )
    op.add_column("subscriptions", sa.Column("locale", sa.String(length=5), nullable=True))


def downgrade():
    op.drop_column("subscriptions", "locale")
    op.drop_column("subscriptions", "origin")
