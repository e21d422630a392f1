"""API keys: `rate_limit`, the budget of reports a key's program may send, counted for the key
alone (tellcity.accounts.budgets). NULL, as every existing key gets: the site's budget for
every key (RATELIMIT_API_KEY).

Plain ADD/DROP COLUMN on both backends, not a batch operation (see 0005: a batch copy of a
table drops it, and its cascades with it).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 21:50:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("api_keys", sa.Column("rate_limit", sa.String(length=100), nullable=True))


def downgrade():
    op.drop_column("api_keys", "rate_limit")
