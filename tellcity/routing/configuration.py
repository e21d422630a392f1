"""The rows a submission is checked and routed by — a city's active categories, its zones,
departments and routing rules — kept per process, so that a submission reads none of them.

Kept in the app's registry of what is kept per city (tellcity.core.caches), like the prepared
shapes of tellcity.geo.places: reloaded when the city's `config_version` changes, which any
change to those rows does. A session that changed any of them reads them from the database,
and keeps nothing, until it commits or rolls back.

The cached rows are detached copies; `Configuration.attach` puts one in the session with
`merge(load=False)`, without a query.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tellcity.categories.models import Category
from tellcity.cities.models import City, Zone
from tellcity.core.caches import caches
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.routing.models import RoutingRule


@dataclass(frozen=True)
class Configuration:
    categories: dict[str, Category]  # the active ones, by code
    zones: dict[int, Zone]
    #: By category id, in the order they apply: zone rules, then any-zone rules, by position.
    rules: dict[int, tuple[RoutingRule, ...]]
    triage_desk: Department | None
    is_cached: bool

    def attach(self, row):
        """`row` as an instance of the current session (None stays None)."""
        if row is None or not self.is_cached:
            return row
        return db.session.merge(row, load=False)

    def category(self, code: str) -> Category | None:
        return self.attach(self.categories.get(code))

    def zone(self, zone_id: int | None) -> Zone | None:
        return self.attach(self.zones.get(zone_id)) if zone_id is not None else None

    def first_rule(self, category_id: int, zone_id: int | None) -> RoutingRule | None:
        """The rule for reports of the category in the zone (None: outside every zone)."""
        for rule in self.rules.get(category_id, ()):
            if rule.zone_id is None or rule.zone_id == zone_id:
                return self.attach(rule)
        return None


def configuration(city: City) -> Configuration:
    """The routing configuration of `city`, as the current session sees it."""
    session = db.session()
    session.flush()  # what a query would autoflush: a pending change is then seen as one
    return caches(session).get(
        session, "routing", city.id, city.config_version, lambda is_kept: _build(city, is_kept)
    )


def _build(city: City, is_kept: bool) -> Configuration:
    if not is_kept:
        return _load(city, db.session, is_cached=False)
    # A session of its own in the same transaction: the rows it loads are detached when it
    # closes, and the request's session keeps its own instances.
    with Session(bind=db.session.connection()) as session:
        return _load(city, session, is_cached=True)


def _load(city: City, session: Session, *, is_cached: bool) -> Configuration:
    departments = session.scalars(
        sa.select(Department).where(Department.city_id == city.id).order_by(Department.id)
    ).all()
    categories = session.scalars(
        sa.select(Category).where(Category.city_id == city.id, Category.is_active)
    ).all()
    zones = session.scalars(sa.select(Zone).where(Zone.city_id == city.id)).all()
    rules = session.scalars(
        sa.select(RoutingRule)
        .where(RoutingRule.city_id == city.id)
        .order_by(RoutingRule.zone_id.is_(None), RoutingRule.position, RoutingRule.id)
    ).all()
    by_category: dict[int, list[RoutingRule]] = {}
    for rule in rules:
        rule.department  # noqa: B018  (loaded now, from the departments above: no query)
        by_category.setdefault(rule.category_id, []).append(rule)
    for category in categories:
        category.department  # noqa: B018  (idem)
    return Configuration(
        categories={category.code: category for category in categories},
        zones={zone.id: zone for zone in zones},
        rules={category_id: tuple(found) for category_id, found in by_category.items()},
        triage_desk=next((d for d in departments if d.is_triage), None),
        is_cached=is_cached,
    )
