"""Departments: `escalation_email`, the address told of an overdue ticket when the department has
no manager and its city no administrator. Outbox messages: a status "dropped" (an administrator
chose never to send the message; it stays for the record), so the status CHECK constraint lists
it.

The new column is a plain ADD/DROP COLUMN on both backends. The CHECK constraint is dropped and
created again on PostgreSQL; SQLite cannot alter a constraint, so there the outbox table alone is
copied with the new one (a batch operation). That is safe for this table and no other: no table
refers to `outbox_messages`, so dropping the old copy cascades to nothing (see 0005 for the
tables where it would), and its own foreign key to `reports` is kept by the copy. The copy
takes the time of reading the table once.

Going back, dropped messages become dead ones (never sent either), which the old constraint
accepts.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 21:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

STATUSES = ("pending", "sending", "sent", "dead")
CHECK = "ck_outbox_messages_status"


def upgrade():
    op.add_column("departments", sa.Column("escalation_email", sa.String(254), nullable=True))
    _replace_status_check((*STATUSES, "dropped"))


def downgrade():
    op.execute("UPDATE outbox_messages SET status = 'dead' WHERE status = 'dropped'")
    _replace_status_check(STATUSES)
    op.drop_column("departments", "escalation_email")


def _replace_status_check(statuses: tuple[str, ...]) -> None:
    condition = "status IN ({})".format(", ".join(f"'{status}'" for status in statuses))
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("outbox_messages", recreate="always") as batch:
            batch.drop_constraint(op.f(CHECK), type_="check")
            batch.create_check_constraint(op.f(CHECK), condition)
    else:
        op.drop_constraint(op.f(CHECK), "outbox_messages", type_="check")
        op.create_check_constraint(op.f(CHECK), "outbox_messages", condition)
