"""Reads for the administration pages: a city's configuration as its administrators see it,
and the audit log."""

import json
import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from tellcity.accounts.models import ApiKey, Role, User
from tellcity.audit.models import AuditEntry
from tellcity.categories.models import Category
from tellcity.cities.models import City, Zone
from tellcity.core.errors import Invalid
from tellcity.core.i18n import datetime_local
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.geo.places import is_inside
from tellcity.reports.models import Report
from tellcity.routing.models import RoutingRule
from tellcity.routing.services import Routing, route
from tellcity.staff.models import ReplyTemplate

#: The tables whose changes the audit log records, as AuditEntry.entity names them.
AUDITED_ENTITIES = (
    "departments",
    "categories",
    "zones",
    "routing_rules",
    "users",
    "reply_templates",
    "api_keys",
    "outbox_messages",
)


def city_row(model, row_id: int, city: City):
    """The `model` row `row_id` if it belongs to `city`, else None."""
    row = db.session.get(model, row_id)
    return row if row is not None and row.city_id == city.id else None


@dataclass(frozen=True)
class DepartmentRow:
    department: Department
    users: int
    categories: int
    reports: int


def departments(city: City) -> list[DepartmentRow]:
    """The city's departments by name, with how many users, categories (by default) and
    reports each has."""
    rows = db.session.execute(
        sa.select(
            Department,
            _count(User, User.department_id),
            _count(Category, Category.department_id),
            _count(Report, Report.department_id),
        )
        .where(Department.city_id == city.id)
        .order_by(Department.name)
    )
    return [DepartmentRow(*row) for row in rows]


def _count(model, column) -> sa.ScalarSelect:
    return (
        sa.select(sa.func.count())
        .select_from(model)
        .where(column == Department.id)
        .scalar_subquery()
    )


def department_choices(city: City) -> list[Department]:
    return db.session.scalars(
        sa.select(Department).where(Department.city_id == city.id).order_by(Department.name)
    ).all()


def categories(city: City, department_id: int | None = None) -> list[Category]:
    """The city's categories (inactive ones too), problems first, in the order of the form;
    only those of `department_id` by default, when given."""
    query = (
        sa.select(Category)
        .where(Category.city_id == city.id)
        .options(selectinload(Category.department))
        .order_by(Category.kind, Category.position, Category.id)
    )
    if department_id is not None:
        query = query.where(Category.department_id == department_id)
    return db.session.scalars(query).all()


def categories_by_group(
    city: City, locale: str, department_id: int | None = None
) -> dict[str, list[Category]]:
    """`categories` under their heading in `locale`."""
    groups: dict[str, list[Category]] = {}
    for category in categories(city, department_id):
        heading = category.group_en if locale == "en" else category.group_fr
        groups.setdefault(heading, []).append(category)
    return groups


def zones(city: City) -> list[Zone]:
    return db.session.scalars(
        sa.select(Zone).where(Zone.city_id == city.id).order_by(Zone.name)
    ).all()


def zone_map(city: City) -> dict:
    """The city's limits and zones as a GeoJSON FeatureCollection, for the admin maps."""
    features = [_feature(city.boundary, "city", city.name)]
    features += [_feature(zone.boundary, "zone", zone.name) for zone in zones(city)]
    return {"type": "FeatureCollection", "features": features}


def _feature(geometry: dict, kind: str, name: str) -> dict:
    return {"type": "Feature", "geometry": geometry, "properties": {"kind": kind, "name": name}}


@dataclass(frozen=True)
class RuleRow:
    """A routing rule, and whether an earlier rule for the same category and zone always
    wins over it (so it never applies)."""

    rule: RoutingRule
    is_shadowed: bool
    is_first: bool
    is_last: bool


def rules(city: City) -> list[RuleRow]:
    """The city's routing rules by category, each category's zone rules first (as routing
    tries them), then by position."""
    query = (
        sa.select(RoutingRule)
        .join(Category, RoutingRule.category_id == Category.id)
        .outerjoin(Zone, RoutingRule.zone_id == Zone.id)
        .where(RoutingRule.city_id == city.id)
        .options(
            selectinload(RoutingRule.category),
            selectinload(RoutingRule.zone),
            selectinload(RoutingRule.department),
        )
        .order_by(
            Category.kind,
            Category.position,
            Category.id,
            RoutingRule.zone_id.is_(None),
            Zone.name,
            RoutingRule.position,
            RoutingRule.id,
        )
    )
    found = db.session.scalars(query).all()
    groups = [(rule.category_id, rule.zone_id) for rule in found]
    return [
        RuleRow(
            rule,
            is_shadowed=index > 0 and groups[index - 1] == groups[index],
            is_first=index == 0 or groups[index - 1] != groups[index],
            is_last=index == len(found) - 1 or groups[index + 1] != groups[index],
        )
        for index, rule in enumerate(found)
    ]


def where_would_it_go(city: City, category: Category, lat: float, lon: float) -> Routing:
    """Where a report of `category` at (lat, lon) would go and why, as routing decides it on
    submission; nothing is saved. Raises Invalid outside the city limits (such a report is
    refused), Conflict when nothing routes it and the city has no triage desk."""
    if not is_inside(city, lat, lon):
        raise Invalid(_("This point is outside the city limits: a report there is refused."))
    return route(city, category, lat, lon)


def users(city: City, role: str | None = None, search: str = "") -> list[User]:
    """The city's accounts, staff first, by email; of one `role`, or whose email or name
    contains `search`, when given. At most 500."""
    query = sa.select(User).where(User.city_id == city.id).options(selectinload(User.department))
    if role:
        query = query.where(User.role == role)
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(
            sa.or_(User.email.like(pattern), sa.func.lower(User.name).like(pattern))
        )
    staff_first = sa.case((User.role == Role.RESIDENT, 1), else_=0)
    return db.session.scalars(query.order_by(staff_first, User.email).limit(500)).all()


def reply_templates(city: City, department_id: int | None = None) -> list[ReplyTemplate]:
    """The city's reply templates by title; only `department_id`'s when given."""
    query = (
        sa.select(ReplyTemplate)
        .where(ReplyTemplate.city_id == city.id)
        .options(selectinload(ReplyTemplate.department), selectinload(ReplyTemplate.category))
        .order_by(ReplyTemplate.title, ReplyTemplate.id)
    )
    if department_id is not None:
        query = query.where(ReplyTemplate.department_id == department_id)
    return db.session.scalars(query).all()


def api_keys(city: City) -> list[ApiKey]:
    """The keys for the city and those for every city, newest first."""
    query = sa.select(ApiKey).where(sa.or_(ApiKey.city_id == city.id, ApiKey.city_id.is_(None)))
    return db.session.scalars(query.order_by(ApiKey.created_at.desc(), ApiKey.id.desc())).all()


def audit_entries(
    city: City, entity: str | None = None, entity_id: int | None = None, limit: int = 200
) -> list[AuditEntry]:
    """The latest changes to the city's configuration (and to what belongs to no city, such
    as API keys for every city), newest first; of one `entity` (table name) and row when
    given."""
    query = sa.select(AuditEntry).where(
        sa.or_(AuditEntry.city_id == city.id, AuditEntry.city_id.is_(None))
    )
    if entity:
        query = query.where(AuditEntry.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == entity_id)
    query = query.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(limit)
    return db.session.scalars(query).all()


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


#: Values longer than this are cut in the log's page (zone boundaries, long texts).
SHOWN_LENGTH = 160
#: A time as the log keeps it (tellcity.audit.services), shown as the city's clock read it.
KEPT_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d")


def changes(entry: AuditEntry) -> list[Change]:
    """What an audit entry changed, field by field: every field set for a creation, every
    field there was for a deletion, the fields that differ for an update."""
    before, after = entry.before or {}, entry.after or {}
    fields = list(dict.fromkeys([*before, *after]))
    found = []
    for field in fields:
        old, new = before.get(field), after.get(field)
        if field in ("id", "created_at") or old == new:
            continue
        found.append(Change(field, _shown(old, field in before), _shown(new, field in after)))
    return found


def _shown(value, present: bool) -> str:
    if not present or value is None:
        return ""
    if isinstance(value, str) and KEPT_TIME.fullmatch(value):
        return datetime_local(datetime.fromisoformat(value))
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= SHOWN_LENGTH else text[: SHOWN_LENGTH - 1] + "…"
