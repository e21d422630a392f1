"""Reads about cities and what they offer."""

import sqlalchemy as sa
from flask import current_app

from tellcity.categories.models import Category
from tellcity.cities.models import City
from tellcity.extensions import db
from tellcity.routing.configuration import configuration


def city_by_slug(slug: str) -> City | None:
    return db.session.scalar(sa.select(City).where(City.slug == slug))


def default_city() -> City | None:
    """The city served when a request names none (config DEFAULT_CITY), if it exists yet."""
    return city_by_slug(current_app.config["DEFAULT_CITY"])


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
