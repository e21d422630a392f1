"""Reads of departments."""

import sqlalchemy as sa

from tellcity.cities.models import City
from tellcity.departments.models import Department
from tellcity.extensions import db


def department_by_slug(city: City | None, slug: str) -> Department | None:
    """The department `slug` of `city` (None when there is no city)."""
    if city is None:
        return None
    query = sa.select(Department).where(Department.slug == slug, Department.city_id == city.id)
    return db.session.scalar(query)
