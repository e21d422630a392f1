"""Changes to a city's routing rules: create, move up or down, delete. (Routing a report by
them is tellcity.routing.services.)

Each service takes the acting `actor=`, checks that they may make the change (raising NotAllowed,
see tellcity.admin.access), validates it (raising Invalid with the form field at fault, or
Conflict), records an AuditEntry with the values before and after, and flushes; the caller
commits."""

import sqlalchemy as sa
from flask_babel import gettext as _

from tellcity.admin.access import require_admin
from tellcity.admin.validation import row_in_city
from tellcity.audit.services import delete_recorded, record, snapshot
from tellcity.categories.models import Category
from tellcity.cities.models import City, Zone
from tellcity.core.errors import Invalid
from tellcity.core.permissions import Actor
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.routing.models import RoutingRule


def create_rule(
    city: City,
    *,
    category_id: int,
    zone_id: int | None,
    department_id: int,
    actor: Actor,
) -> RoutingRule:
    """Send reports of a category in a zone (any zone when None) to a department; the rule
    comes after the others for the same category and zone.

    Raises NotAllowed; Invalid for a category, zone or department of another city.
    """
    require_admin(actor, city.id)
    row_in_city(Category, category_id, city.id, "category_id")
    if zone_id is not None:
        row_in_city(Zone, zone_id, city.id, "zone_id")
    row_in_city(Department, department_id, city.id, "department_id")
    siblings = _rule_siblings(category_id, zone_id)
    position = siblings[-1].position + 1 if siblings else 0
    rule = RoutingRule(
        city_id=city.id,
        category_id=category_id,
        zone_id=zone_id,
        department_id=department_id,
        position=position,
    )
    db.session.add(rule)
    record(actor, "create", rule)
    return rule


def _rule_siblings(category_id: int, zone_id: int | None) -> list[RoutingRule]:
    """The rules for the same category and zone, in the order routing tries them: the only
    rules whose order matters, since a zone's rules always come before the any-zone ones."""
    zone_match = (
        RoutingRule.zone_id.is_(None) if zone_id is None else RoutingRule.zone_id == zone_id
    )
    query = (
        sa.select(RoutingRule)
        .where(RoutingRule.category_id == category_id, zone_match)
        .order_by(RoutingRule.position, RoutingRule.id)
    )
    return db.session.scalars(query).all()


def move_rule(rule: RoutingRule, direction: str, *, actor: Actor) -> None:
    """Move a rule one place "up" (tried sooner) or "down" among the rules for the same
    category and zone; positions are renumbered from 0, and each change recorded.

    Raises NotAllowed; Invalid for another direction or a move past either end.
    """
    require_admin(actor, rule.city_id)
    siblings = _rule_siblings(rule.category_id, rule.zone_id)
    index = siblings.index(rule)
    target = {"up": index - 1, "down": index + 1}.get(direction)
    if target is None or not 0 <= target < len(siblings):
        raise Invalid(_("This rule cannot move further that way."))
    siblings[index], siblings[target] = siblings[target], siblings[index]
    for position, sibling in enumerate(siblings):
        if sibling.position != position:
            before = snapshot(sibling)
            sibling.position = position
            record(actor, "update", sibling, before)


def delete_rule(rule: RoutingRule, *, actor: Actor) -> None:
    """Delete a routing rule. Raises NotAllowed."""
    require_admin(actor, rule.city_id)
    delete_recorded(rule, actor)
