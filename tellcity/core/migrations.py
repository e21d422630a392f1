"""The schema's migrations (Alembic, through Flask-Migrate), bound to an app only when they
are used: by `tellcity init` and `demo`, the `db` commands, the tests and the benchmarks.

Alembic and Flask-Migrate weigh 10 MB that a web worker, which never migrates, would carry
for its whole life.
"""

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo

from tellcity.extensions import db

#: Alembic's environment and the revisions.
DIRECTORY = Path(__file__).resolve().parent.parent / "migrations"


def bind(app: Flask) -> None:
    """Set Flask-Migrate up on `app`, once."""
    if "migrate" not in app.extensions:
        from flask_migrate import Migrate

        Migrate(app, db, directory=str(DIRECTORY), render_as_batch=True, compare_type=True)


def upgrade(revision: str = "head") -> None:
    """Bring the current app's database to `revision` (by default the latest)."""
    from flask_migrate import upgrade as alembic_upgrade

    bind(current_app)
    alembic_upgrade(revision=revision)


def downgrade(revision: str = "base") -> None:
    """Unwind the current app's database to `revision` (by default, nothing at all)."""
    from flask_migrate import downgrade as alembic_downgrade

    bind(current_app)
    alembic_downgrade(revision=revision)


class Commands(click.Group):
    """Flask-Migrate's `db` group (`tellcity db upgrade`, `db migrate`...), imported when a
    command line asks for it: the context and the invocation are the real group's."""

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        from flask_migrate.cli import db as real

        bind(parent.ensure_object(ScriptInfo).load_app())
        return real.make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: click.Context):
        return ctx.command.invoke(ctx)


commands = Commands("db", help="Database migrations (Alembic, through Flask-Migrate).")
