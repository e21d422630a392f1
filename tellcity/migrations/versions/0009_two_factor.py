"""Two-factor sign-in for staff: on users, when a TOTP secret was confirmed
(`totp_enabled_at`; the secret goes in the `totp_secret` column the first schema already has),
the last time step whose code was accepted (`totp_last_step`: no code is taken twice) and the
hashes of the unused recovery codes (`recovery_code_hashes`); on cities, whether every member
of staff must use it (`staff_2fa_required`; administrators always must).

Existing users have no second factor (nulls); existing cities do not require it of their staff
(false, the server default). Plain ADD/DROP COLUMN on both backends, not a batch operation (see
0005: a batch copy of a table drops it, and its cascades with it).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 21:30:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tellcity.core.db

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "users",
        sa.Column("totp_enabled_at", tellcity.core.db.UTCDateTime(timezone=True), nullable=True),
    )
    op.add_column("users", sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.add_column(
        "users",
        sa.Column(
            "recovery_code_hashes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
    )
    op.add_column(
        "cities",
        sa.Column("staff_2fa_required", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade():
    op.drop_column("cities", "staff_2fa_required")
    op.drop_column("users", "recovery_code_hashes")
    op.drop_column("users", "totp_last_step")
    op.drop_column("users", "totp_enabled_at")
