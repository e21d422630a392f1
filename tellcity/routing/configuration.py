"""The rows a submission is checked and routed by — a city's active categories, its zones,
departments and routing rules — kept per process, so that a submission reads none of them.

Keyed like the prepared shapes of tellcity.geo.places by the city's `config_version`, which
a session hook bumps whenever one of those rows is added, changed or deleted (the one in
geo.places bumps it for zones): every process sees the new version in the city row it reads
for each request, and reloads. A session that changed any of them reads them from the
database, and caches nothing, until it commits or rolls back: an uncommitted change is never
cached under a version another transaction could also reach.

The cached rows are detached copies; `Configuration.attach` puts one in the session with
`merge(load=False)`, without a query.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from tellcity.categories.models import Category
from tellcity.cities.models import City, Zone
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.routing.models import RoutingRule

#: The models whose rows a Configuration holds.
ROUTING_MODELS = (Category, Department, RoutingRule, Zone)
#: session.info key: this session changed routing rows that it has not committed yet.
CHANGED = "tellcity.routing_changed"


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


_cache: dict[tuple[int, int], Configuration] = {}


def configuration(city: City) -> Configuration:
    """The routing configuration of `city`, as the current session sees it."""
    db.session.flush()  # what a query would autoflush: a pending change sets CHANGED
    if db.session.info.get(CHANGED):
        return _load(city, db.session, is_cached=False)
    key = (city.id, city.config_version)
    found = _cache.get(key)
    if found is None:
        for stale in [k for k in _cache if k[0] == city.id]:
            del _cache[stale]
        # A session of its own in the same transaction: the rows it loads are detached when
        # it closes, and the request's session keeps its own instances.
        with Session(bind=db.session.connection()) as session:
            found = _cache[key] = _load(city, session, is_cached=True)
    return found


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


@event.listens_for(Session, "before_flush")
def _bump_version(session, flush_context, instances):
    """A category, department or rule written makes every process reload the city's
    configuration (a zone does too, through the version geo.places bumps for it)."""
    cities: set[City] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(obj, ROUTING_MODELS):
            continue
        if obj in session.dirty and not session.is_modified(obj, include_collections=False):
            continue
        session.info[CHANGED] = True
        if isinstance(obj, Zone):
            continue  # tellcity.geo.places bumps the version for zones
        city = obj.city or session.get(City, obj.city_id)
        if city is not None and city not in session.new:
            cities.add(city)
    for city in cities:
        city.config_version = City.config_version + 1


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_changes(session):
    session.info.pop(CHANGED, None)
