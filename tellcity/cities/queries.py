"""Reads about cities and what they offer."""

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from tellcity.categories.models import Category
from tellcity.cities.models import City
from tellcity.core.caches import caches, is_changed
from tellcity.core.errors import NotFound
from tellcity.core.i18n import show_times_of
from tellcity.extensions import db
from tellcity.routing.configuration import configuration

#: The city's id and version, by slug: built once (building it costs as much as running it).
_VERSION = sa.select(City.__table__.c.id, City.__table__.c.config_version).where(
    City.__table__.c.slug == sa.bindparam("slug")
)


def city_by_slug(slug: str) -> City | None:
    """The city, as the current session sees it. Nearly every request starts here: rather than
    load the row, it reads the city's id and version (one indexed lookup of two numbers) and
    puts the copy this process keeps (in the app's registry, tellcity.core.caches) in the
    session if it is current, without a query. A session that changed a city reads it from
    the database, and keeps nothing, until it commits or rolls back: an uncommitted change is
    never kept under a version another transaction could also reach."""
    session = db.session()
    if is_changed(session) or any(isinstance(obj, City) for obj in session.dirty):
        return session.scalar(sa.select(City).where(City.slug == slug))
    row = session.connection().execute(_VERSION, {"slug": slug}).first()
    if row is None:
        return None
    return kept_city(row.id, row.config_version)


def kept_city(city_id: int, config_version: int) -> City:
    """The city whose id and version the caller has just read in this transaction (a query
    of its own that needs them: Open311's served cities), as city_by_slug gives it."""
    session = db.session()
    if is_changed(session) or any(isinstance(obj, City) for obj in session.dirty):
        return session.get(City, city_id)
    kept = caches(session).get(
        session, "city", city_id, config_version, lambda is_kept: _detached(session, city_id)
    )
    return session.merge(kept, load=False)


def _detached(session, city_id: int) -> City:
    """The city, loaded by a session of its own in the same transaction: the copy kept stays
    detached, and the request's session gets an instance of its own."""
    with Session(bind=session.connection()) as own:
        return own.get(City, city_id)


def default_city() -> City | None:
    """The city served when a request names none (config DEFAULT_CITY), if it exists yet."""
    return city_by_slug(current_app.config["DEFAULT_CITY"])


def current_city(slug: str | None = None, *, own_city_id: int | None = None) -> City:
    """The city a request is about, found the same way by every front end: the one `slug`
    names (a ?city= parameter, Open311's jurisdiction_id), else the caller's own city (staff
    or an API key tied to one city), else the default city. Whether the caller may read that
    city is theirs to check. The request's times are shown in its time zone from then on
    (tellcity.core.i18n). Raises NotFound when there is no such city."""
    city = _found_city(slug, own_city_id)
    show_times_of(city)
    return city


def _found_city(slug: str | None, own_city_id: int | None) -> City:
    if slug:
        city = city_by_slug(slug)
        if city is None:
            raise NotFound(_("No such city."))
        return city
    if own_city_id is not None:
        return db.session.get(City, own_city_id)
    city = default_city()
    if city is None:
        raise NotFound(_("No city is configured here yet."))
    return city


def active_category(city: City, code: str | None) -> Category | None:
    """The city's active category with this Open311 code, if any (from the configuration each
    process keeps: tellcity.routing.configuration)."""
    if not code:
        return None
    return configuration(city).category(code)


def categories_by_group(city: City, locale: str = "fr") -> dict[str, list[Category]]:
    """The city's active categories, problems first, grouped under their heading."""
    rows = db.session.scalars(
        sa.select(Category)
        .where(Category.city_id == city.id, Category.is_active)
        .order_by(Category.kind, Category.position, Category.id)
    )
    groups: dict[str, list[Category]] = {}
    for category in rows:
        heading = category.group_en if locale == "en" else category.group_fr
        groups.setdefault(heading, []).append(category)
    return groups
