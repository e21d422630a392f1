"""Changes to a city's zones: add or replace them from a file, rename, delete.

Each service takes the acting `actor=`, checks that they may make the change (raising NotAllowed,
see tellcity.admin.access), validates it (raising Invalid with the form field at fault, or
Conflict), records an AuditEntry with the values before and after, and flushes; the caller
commits."""

from collections.abc import Mapping

import sqlalchemy as sa
from flask_babel import gettext as _

from tellcity.admin.access import require_admin
from tellcity.admin.validation import ZoneShape, check_zone_layout
from tellcity.audit.services import delete_recorded, record, snapshot
from tellcity.cities.models import City, Zone
from tellcity.core.errors import Invalid
from tellcity.core.permissions import Actor
from tellcity.core.slugs import unique_slug
from tellcity.extensions import db
from tellcity.geo.places import zone_id_at
from tellcity.geo.shapes import bbox, to_geojson
from tellcity.reports import versions
from tellcity.reports.models import Report
from tellcity.routing.models import RoutingRule
from tellcity.stats import daily


def add_zones(
    city: City, shapes: list[ZoneShape], *, actor: Actor, replace: bool = False
) -> list[Zone]:
    """Add the zones read from a file (tellcity.admin.validation.read_zone_file) to `city`,
    or with `replace`, put them in place of all its zones: the old zones' routing rules and
    feeds go with them. Reports without a zone are then placed in the new zones.

    Raises NotAllowed; Invalid naming the feature outside the city, overlapping another zone,
    or with a name already used. Nothing is written then.
    """
    require_admin(actor, city.id)
    current = _zones(city)
    kept = [] if replace else [(zone.name, zone.boundary) for zone in current]
    check_zone_layout(shapes, city.boundary, kept)
    if replace:
        for zone in current:
            _delete_zone(zone, actor)
    zones = [_new_zone(city, shape, actor) for shape in shapes]
    _place_reports(city)
    return zones


def _zones(city: City) -> list[Zone]:
    return db.session.scalars(sa.select(Zone).where(Zone.city_id == city.id)).all()


def _new_zone(city: City, shape: ZoneShape, actor: Actor) -> Zone:
    boundary = to_geojson(shape.geometry)
    min_lat, min_lon, max_lat, max_lon = bbox(boundary)
    zone = Zone(
        city_id=city.id,
        slug=unique_slug(Zone, city.id, shape.name),
        name=shape.name,
        population=shape.population,
        boundary=boundary,
        min_lat=min_lat,
        min_lon=min_lon,
        max_lat=max_lat,
        max_lon=max_lon,
    )
    db.session.add(zone)
    record(actor, "create", zone)
    return zone


def _place_reports(city: City) -> int:
    """Put the city's reports that have a position but no zone into the zone they are in;
    returns how many found one. Their history is unchanged: the zone is a fact of geography."""
    rows = db.session.execute(
        sa.select(Report.id, Report.lat, Report.lon).where(
            Report.city_id == city.id, Report.zone_id.is_(None), Report.lat.is_not(None)
        )
    )
    by_zone: dict[int, list[int]] = {}
    for report_id, lat, lon in rows:
        zone_id = zone_id_at(city, lat, lon)
        if zone_id is not None:
            by_zone.setdefault(zone_id, []).append(report_id)
    if by_zone:
        versions.bump(db.session, city.id)  # a bulk UPDATE: the flush's hook does not see it
    for zone_id, report_ids in by_zone.items():
        for start in range(0, len(report_ids), 500):
            some = report_ids[start : start + 500]
            with daily.changing(db.session, some):  # the statistics' aggregates, by zone
                db.session.execute(
                    sa.update(Report)
                    .where(Report.id.in_(some))
                    .values(zone_id=zone_id, updated_at=Report.updated_at)
                )
    return sum(len(ids) for ids in by_zone.values())


def update_zone(zone: Zone, data: Mapping, *, actor: Actor) -> None:
    """Rename a zone or change its population (`data`: name, population).

    Raises NotAllowed; Invalid for an empty name, one another zone of the city has, or a
    negative population.
    """
    require_admin(actor, zone.city_id)
    name = (data["name"] or "").strip()
    population = data["population"]
    if not name:
        raise Invalid(_("Give a name."), field="name")
    others = [other.name for other in _zones(zone.city) if other.id != zone.id]
    if name.casefold() in {other.casefold() for other in others}:
        raise Invalid(_("There is already a zone named %(name)s.", name=name), field="name")
    if population is not None and population < 0:
        raise Invalid(_("Give a whole number, 0 or more."), field="population")
    before = snapshot(zone)
    zone.name, zone.population = name, population
    record(actor, "update", zone, before)


def delete_zone(zone: Zone, *, actor: Actor) -> None:
    """Delete a zone with its routing rules; its reports keep no zone. Raises NotAllowed."""
    require_admin(actor, zone.city_id)
    _delete_zone(zone, actor)


def _delete_zone(zone: Zone, actor: Actor) -> None:
    rules = db.session.scalars(sa.select(RoutingRule).where(RoutingRule.zone_id == zone.id))
    for rule in rules.all():
        delete_recorded(rule, actor)
    placed = db.session.scalars(sa.select(Report.id).where(Report.zone_id == zone.id)).all()
    # Its reports lose their zone in the database (ON DELETE SET NULL): the statistics'
    # aggregates move them to "no zone" around it.
    with daily.changing(db.session, placed):
        delete_recorded(zone, actor)
        db.session.flush()
