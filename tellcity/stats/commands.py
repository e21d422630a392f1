"""`tellcity stats rebuild`: make the statistics' per-day aggregates again from the reports."""

import time

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from tellcity.cities.models import City
from tellcity.core.transaction import unit_of_work
from tellcity.extensions import db
from tellcity.stats import daily


@click.group("stats")
def stats_group():
    """The statistics."""


@stats_group.command("rebuild")
@click.option("--city", "slug", help="The city's slug (by default, every city).")
@with_appcontext
def rebuild_command(slug: str | None):
    """Make the per-day aggregates again from the reports (a repair: they are kept with every
    write). One transaction per city."""
    query = sa.select(City.id, City.slug).order_by(City.id)
    if slug:
        query = query.where(City.slug == slug)
    cities = db.session.execute(query).all()
    if not cities:
        raise click.ClickException(f"No city {slug!r}." if slug else "No city.")
    for city_id, city_slug in cities:
        started = time.perf_counter()
        with unit_of_work():
            daily.rebuild(db.session.connection(), city_id)
        click.echo(f"{city_slug}: rebuilt in {time.perf_counter() - started:.1f} s")
