"""Commands: `tellcity ...`, or `flask --app tellcity ...`."""

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from werkzeug.serving import run_simple

from tellcity.accounts import commands as accounts
from tellcity.accounts.commands import SET_UP_AT_FIRST_SIGN_IN
from tellcity.cities.models import City
from tellcity.core import migrations
from tellcity.core.db import refresh_planner_statistics
from tellcity.core.transaction import unit_of_work
from tellcity.extensions import db
from tellcity.imports.commands import import_311_command
from tellcity.notify.commands import (
    outbox_retry_command,
    outbox_status_command,
    worker_command,
)
from tellcity.sla.commands import escalate_command
from tellcity.stats.commands import stats_group


def upgrade_database() -> None:
    """Create the database, or bring it to the latest migration, and refresh the query
    planner's statistics."""
    migrations.upgrade()
    refresh_planner_statistics(db.engine)


@click.command("init")
@with_appcontext
def init_command():
    """Create the database or upgrade it to the latest schema."""
    upgrade_database()
    click.echo(f"Database ready: {db.engine.url.render_as_string(hide_password=True)}")


def local_url(host: str, port: int) -> str:
    """The address a browser on this machine opens for a server listening on `host`:`port`;
    a server listening on every interface (0.0.0.0, ::) is reached through this machine's."""
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "localhost"}.get(host, host)
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    return f"http://{host}:{port}"


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=5000, show_default=True, help="Port to listen on.")
@click.option("--no-serve", is_flag=True, help="Prepare the database and exit.")
@with_appcontext
def demo_command(host: str, port: int, no_serve: bool):
    """Run the demo city: create the database, load Issy-les-Moulineaux into it if it holds no
    city yet (printing the staff accounts), and serve the app."""
    from tellcity.demo.reports import add_demo_reports
    from tellcity.demo.services import load_city_file

    url = local_url(host, port)
    if not current_app.config["BASE_URL_IS_SET"]:
        # The links the demo writes (the API's tracking_url, emails) lead to where it serves.
        current_app.config["BASE_URL"] = url
    upgrade_database()
    if db.session.scalar(sa.select(City.id).limit(1)) is None:
        with unit_of_work():
            city, accounts = load_city_file()
            reports = add_demo_reports(city)
        refresh_planner_statistics(db.engine)
        click.echo(f"\nLoaded the demo city {city.name} with {reports} reports.")
        click.echo("Staff accounts (shown this once):\n")
        for account in accounts:
            where = f" ({account.department})" if account.department else ""
            click.echo(f"  {account.role + where:<28} {account.email:<34} {account.password}")
        click.echo("\nForgot one? `tellcity set-password EMAIL` prints a new password.")
        click.echo(f"The administrator: {SET_UP_AT_FIRST_SIGN_IN}")
    else:
        click.echo("The database already holds a city; staff passwords were printed when it was")
        click.echo("loaded. `tellcity set-password EMAIL` prints a new one.")
    db.session.remove()
    if not no_serve:
        click.echo(f"\nTellCity is at {url}/  (Ctrl+C stops it)\n")
        run_simple(host, port, current_app._get_current_object(), threaded=True)


commands = [
    migrations.commands,
    init_command,
    demo_command,
    *accounts.commands,
    escalate_command,
    worker_command,
    outbox_status_command,
    outbox_retry_command,
    import_311_command,
    stats_group,
]


def main() -> None:
    """The `tellcity` console script."""
    from tellcity import create_app

    FlaskGroup(create_app=create_app, help="TellCity: citizen issue reporting.").main()
