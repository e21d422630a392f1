"""Commands: `tellcity ...`, or `flask --app tellcity ...`."""

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from werkzeug.serving import run_simple

from tellcity.accounts.models import Role, User
from tellcity.accounts.services import AccountError, create_user, generate_password
from tellcity.cities.models import City
from tellcity.cities.queries import city_by_slug
from tellcity.core import migrations
from tellcity.core.db import refresh_planner_statistics
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.imports.commands import import_311_command
from tellcity.notify.commands import (
    outbox_retry_command,
    outbox_status_command,
    worker_command,
)
from tellcity.open311.commands import create_api_key_command, revoke_api_key_command
from tellcity.sla.commands import escalate_command


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

    upgrade_database()
    if db.session.scalar(sa.select(City.id).limit(1)) is None:
        city, accounts = load_city_file()
        reports = add_demo_reports(city)
        db.session.commit()
        refresh_planner_statistics(db.engine)
        click.echo(f"\nLoaded the demo city {city.name} with {reports} reports.")
        click.echo("Staff accounts (shown this once):\n")
        for account in accounts:
            where = f" ({account.department})" if account.department else ""
            click.echo(f"  {account.role + where:<28} {account.email:<34} {account.password}")
        click.echo("\nForgot one? `tellcity set-password EMAIL` prints a new password.")
    else:
        click.echo("The database already holds a city; staff passwords were printed when it was")
        click.echo("loaded. `tellcity set-password EMAIL` prints a new one.")
    db.session.remove()
    if not no_serve:
        click.echo(f"\nTellCity is at http://{host}:{port}/  (Ctrl+C stops it)\n")
        run_simple(host, port, current_app._get_current_object(), threaded=True)


@click.command("create-user")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    default=Role.RESIDENT.value,
    show_default=True,
)
@click.option("--name", default="")
@click.option("--department", "department_slug", help="Slug of the department (agent, manager).")
@click.option("--city", "city_slug", help="City slug; the default city when not given.")
@click.option(
    "--prompt-password", is_flag=True, help="Type the password instead of a generated one."
)
@with_appcontext
def create_user_command(email, role, name, department_slug, city_slug, prompt_password):
    """Create an account; prints its generated password once."""
    city = city_by_slug(city_slug or current_app.config["DEFAULT_CITY"])
    if city_slug and city is None:
        raise click.BadParameter(f"no city {city_slug!r}", param_hint="--city")
    department = None
    if department_slug:
        department = db.session.scalar(
            sa.select(Department).where(
                Department.slug == department_slug, Department.city_id == (city and city.id)
            )
        )
        if department is None:
            raise click.BadParameter(
                f"no department {department_slug!r}", param_hint="--department"
            )
    password = None
    if prompt_password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user, password = create_user(
            email, role=role, name=name, password=password, city=city, department=department
        )
    except AccountError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}")
    if not prompt_password:
        click.echo(f"Password (shown this once): {password}")


@click.command("set-password")
@click.argument("email")
@with_appcontext
def set_password_command(email: str):
    """Give an account a new generated password and print it once."""
    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no account for {email}")
    password = generate_password()
    user.set_password(password)
    user.failed_logins = 0
    user.locked_until = None
    db.session.commit()
    click.echo(f"New password for {user.email} (shown this once): {password}")


commands = [
    migrations.commands,
    init_command,
    demo_command,
    create_user_command,
    set_password_command,
    escalate_command,
    worker_command,
    outbox_status_command,
    outbox_retry_command,
    import_311_command,
    create_api_key_command,
    revoke_api_key_command,
]


def main() -> None:
    """The `tellcity` console script."""
    from tellcity import create_app

    FlaskGroup(create_app=create_app, help="TellCity: citizen issue reporting.").main()
