"""Commands: `tellcity create-api-key NAME`, `tellcity revoke-api-key PREFIX`."""

import click
from flask.cli import with_appcontext

from tellcity.cities.queries import city_by_slug
from tellcity.core.errors import TellCityError
from tellcity.extensions import db
from tellcity.open311.queries import api_key_by_prefix
from tellcity.open311.services import SCOPES, create_api_key, revoke_api_key


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
@with_appcontext
def create_api_key_command(name: str, city_slug: str | None, scopes: tuple[str, ...]):
    """Create an API key for the client NAME (an Open311 app, say) and print it once: only
    its hash is kept."""
    city = None
    if city_slug:
        city = city_by_slug(city_slug)
        if city is None:
            raise click.BadParameter(f"no city {city_slug!r}", param_hint="--city")
    try:
        api_key, key = create_api_key(name, city=city, scopes=scopes)
    except TellCityError as error:
        raise click.ClickException(error.message) from error
    db.session.commit()
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
    api_key = api_key_by_prefix(prefix)
    if api_key is None:
        raise click.ClickException(f"no API key {prefix}")
    revoke_api_key(api_key)
    db.session.commit()
    click.echo(f"Revoked API key {api_key.prefix} ({api_key.name})")
