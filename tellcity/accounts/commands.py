"""Commands: `tellcity create-user EMAIL`, `set-password EMAIL`, `reset-two-factor EMAIL`,
`create-api-key NAME`, `revoke-api-key PREFIX`. They call the same services as the
administration pages, as the CLI actor: the audit log names them "cli". Their messages are in
English."""

from collections.abc import Callable
from typing import TypeVar

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from tellcity.accounts import queries, two_factor
from tellcity.accounts.api_keys import SCOPES, create_api_key, revoke_api_key
from tellcity.accounts.models import Role
from tellcity.accounts.services import create_account, reset_password
from tellcity.admin.access import CLI
from tellcity.cities.queries import city_by_slug
from tellcity.core.errors import TellCityError
from tellcity.core.transaction import unit_of_work
from tellcity.departments.queries import department_by_slug

T = TypeVar("T")


def run(action: Callable[[], T]) -> T:
    """Run `action` (a service call) and commit, or stop with the service's refusal (nothing
    written)."""
    try:
        with force_locale("en"), unit_of_work():
            return action()
    except TellCityError as error:
        raise click.ClickException(error.message) from error


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
        department = department_by_slug(city, department_slug)
        if department is None:
            raise click.BadParameter(
                f"no department {department_slug!r}", param_hint="--department"
            )
    password = None
    if prompt_password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    data = {
        "email": email,
        "name": name,
        "role": role,
        "department_id": department and department.id,
    }
    user, password = run(lambda: create_account(city, data, actor=CLI, password=password))
    click.echo(f"Created {user.role} {user.email}")
    if not prompt_password:
        click.echo(f"Password (shown this once): {password}")
    if two_factor.is_required(user):
        click.echo(SET_UP_AT_FIRST_SIGN_IN)


#: What a member of staff who must use two-factor sign-in is told before their first sign-in.
SET_UP_AT_FIRST_SIGN_IN = (
    "At the first sign-in the site asks to set up two-factor sign-in: have an authenticator "
    "app on a phone (FreeOTP, Aegis, Google Authenticator...) to scan the QR code it shows."
)


@click.command("set-password")
@click.argument("email")
@with_appcontext
def set_password_command(email: str):
    """Give an account a new generated password and print it once."""
    user = queries.user_by_email(email)
    if user is None:
        raise click.ClickException(f"no account for {email}")
    password = run(lambda: reset_password(user, actor=CLI))
    click.echo(f"New password for {user.email} (shown this once): {password}")


@click.command("reset-two-factor")
@click.argument("email")
@with_appcontext
def reset_two_factor_command(email: str):
    """Turn off an account's two-factor sign-in (a lost phone, and no other administrator to
    reset it); they set it up again at their next sign-in if it is required of them."""
    user = queries.user_by_email(email)
    if user is None:
        raise click.ClickException(f"no account for {email}")
    run(lambda: two_factor.reset(user, actor=CLI))
    click.echo(f"Two-factor sign-in of {user.email} is reset.")


@click.command("create-api-key")
@click.argument("name")
@click.option("--city", "city_slug", help="Limit the key to this city (slug); every city if not.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(SCOPES),
    default=("open311",),
    show_default=True,
    help="What the key may do; repeat for several.",
)
@click.option(
    "--rate-limit",
    metavar="BUDGET",
    help='Reports its program may send, e.g. "300 per minute;20000 per day" [RATELIMIT_API_KEY].',
)
@with_appcontext
def create_api_key_command(
    name: str, city_slug: str | None, scopes: tuple[str, ...], rate_limit: str | None
):
    """Create an API key for the client NAME (an Open311 app, say) and print it once: only
    its hash is kept."""
    city = None
    if city_slug:
        city = city_by_slug(city_slug)
        if city is None:
            raise click.BadParameter(f"no city {city_slug!r}", param_hint="--city")
    api_key, key = run(
        lambda: create_api_key(name, city=city, scopes=scopes, rate_limit=rate_limit, actor=CLI)
    )
    where = city.slug if city else "every city"
    click.echo(
        f"Created API key {api_key.prefix} for {api_key.name} ({where}; {', '.join(scopes)})"
    )
    click.echo(f"Key (shown this once): {key}")


@click.command("revoke-api-key")
@click.argument("prefix")
@with_appcontext
def revoke_api_key_command(prefix: str):
    """Refuse the API key whose prefix (the part before the dot) is PREFIX from now on."""
    api_key = queries.api_key_by_prefix(prefix)
    if api_key is None:
        raise click.ClickException(f"no API key {prefix}")
    run(lambda: revoke_api_key(api_key, actor=CLI))
    click.echo(f"Revoked API key {api_key.prefix} ({api_key.name})")


commands = [
    create_user_command,
    set_password_command,
    reset_two_factor_command,
    create_api_key_command,
    revoke_api_key_command,
]
