"""Users: `locale` may be null, meaning "never chose a language": their pages then follow their
browser's languages (then their city's), rather than French because every account was made
French (tellcity.core.i18n).

Which existing accounts chose? Until now nothing wrote the column but its default: the language
switch only set a cookie, and no page, command or API took a language for an account. So "fr"
says nothing and becomes null; any other value was set by hand, on purpose, and is kept.

The column is remade rather than altered: on SQLite making a column nullable is a batch copy
of the table, and dropping `users` would take its cascades with it (see 0005). So, on both
backends alike, plain statements: add the new column, copy the chosen values, drop the old
one, rename the new one (SQLite >= 3.35 for DROP COLUMN).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 21:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("chosen_locale", sa.String(length=5), nullable=True))
    op.execute("UPDATE users SET chosen_locale = locale WHERE locale <> 'fr'")
    op.drop_column("users", "locale")
    op.alter_column("users", "chosen_locale", new_column_name="locale")


def downgrade():
    # Back to a language for everyone: French where none was chosen, as accounts were made.
    op.add_column(
        "users",
        sa.Column("old_locale", sa.String(length=5), server_default="fr", nullable=False),
    )
    op.execute("UPDATE users SET old_locale = locale WHERE locale IS NOT NULL")
    op.drop_column("users", "locale")
    op.alter_column("users", "old_locale", new_column_name="locale")
