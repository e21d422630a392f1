"""Choosing the department for a report: the first rule for its category in its zone, then its
category in any zone, then the category's default department, then the city's triage desk."""

from dataclasses import dataclass

from flask_babel import gettext as _

from tellcity.categories.models import Category
from tellcity.cities.models import City, Zone
from tellcity.core.errors import Conflict
from tellcity.departments.models import Department
from tellcity.geo.places import zone_id_at
from tellcity.routing.configuration import configuration
from tellcity.routing.models import RoutingRule


@dataclass(frozen=True)
class Routing:
    """Where a report goes and why."""

    department: Department
    zone: Zone | None
    rule: RoutingRule | None
    #: "rule", "default" (the category's department) or "triage": why, said in the reader's
    #: language by reports.history.routing_reason.
    basis: str
    category_code: str

    @property
    def data(self) -> dict:
        """The decision as stored in the report's first event."""
        return {
            "department": self.department.slug,
            "zone": self.zone.slug if self.zone else None,
            "rule_id": self.rule.id if self.rule else None,
            "basis": self.basis,
            "category": self.category_code,
            # A zone's rule matched: the report's zone is the rule's.
            "rule_zone": self.zone.slug if self.rule and self.rule.zone_id and self.zone else None,
        }


def route(city: City, category: Category, lat: float | None, lon: float | None) -> Routing:
    """Decide the department for a report of `category` at (lat, lon) in `city` (a suggestion
    may have no position: then only the any-zone rules apply).

    Raises Conflict if the city has no triage desk and nothing else matches (a configuration
    error an administrator must fix).
    """
    config = configuration(city)
    zone_id = zone_id_at(city, lat, lon) if lat is not None and lon is not None else None
    zone = config.zone(zone_id)
    rule = config.first_rule(category.id, zone_id)
    if rule is not None:
        return Routing(rule.department, zone, rule, "rule", category.code)
    if category.department is not None:
        return Routing(category.department, zone, None, "default", category.code)
    desk = config.attach(config.triage_desk)
    if desk is None:
        raise Conflict(
            _("%(city)s has no triage desk to route reports to", city=city.name), code="no_triage"
        )
    return Routing(desk, zone, None, "triage", category.code)
