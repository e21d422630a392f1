"""Changes to a city's categories (its Open311 services): create, update, delete.

Each service takes the acting `actor=`, checks that they may make the change (raising NotAllowed,
see tellcity.admin.access), validates it (raising Invalid with the form field at fault, or
Conflict), records an AuditEntry with the values before and after, and flushes; the caller
commits."""

from collections.abc import Mapping

import sqlalchemy as sa
from flask_babel import gettext as _

from tellcity.admin.access import (
    MANAGER_CATEGORY_FIELDS,
    is_admin,
    is_manager_of,
    require,
    require_admin,
)
from tellcity.admin.validation import row_in_city
from tellcity.audit.services import delete_recorded, record, snapshot
from tellcity.categories.models import Category
from tellcity.categories.questions import check_attributes
from tellcity.cities.models import City
from tellcity.core.errors import Conflict, Invalid
from tellcity.core.permissions import Actor
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.reports.models import Report
from tellcity.reports.states import Kind, Priority
from tellcity.routing.models import RoutingRule
from tellcity.staff.models import ReplyTemplate

#: A category's editable fields, in the order the form shows them.
CATEGORY_FIELDS = (
    "kind",
    "code",
    "name_fr",
    "name_en",
    "description_fr",
    "description_en",
    "group_fr",
    "group_en",
    "keywords",
    "department_id",
    "sla_hours",
    "default_priority",
    "is_active",
    "attributes",
)
CATEGORY_CODE_CHARACTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."


def create_category(city: City, data: Mapping, *, actor: Actor) -> Category:
    """Add a category (`data` holds CATEGORY_FIELDS), listed after the others.

    Raises NotAllowed; Invalid for a code already used in the city, an unknown department,
    a priority outside 1 to 4, a bad SLA or extra questions of the wrong shape.
    """
    require_admin(actor, city.id)
    last = db.session.scalar(
        sa.select(sa.func.max(Category.position)).where(Category.city_id == city.id)
    )
    category = Category(city_id=city.id, position=(last or 0) + 1)
    _apply_category(category, {key: data[key] for key in CATEGORY_FIELDS})
    db.session.add(category)
    record(actor, "create", category)
    return category


def update_category(category: Category, data: Mapping, *, actor: Actor) -> None:
    """Change the fields of `data` (some of CATEGORY_FIELDS). An administrator may change
    them all; a manager of the category's default department only MANAGER_CATEGORY_FIELDS.

    Raises NotAllowed; Invalid as create_category.
    """
    if not is_admin(actor, category.city_id):
        allowed = set(data) <= MANAGER_CATEGORY_FIELDS
        require(allowed and is_manager_of(actor, category.department_id))
    before = snapshot(category)
    _apply_category(category, data)
    record(actor, "update", category, before)


def _apply_category(category: Category, data: Mapping) -> None:
    unknown = set(data) - set(CATEGORY_FIELDS)
    if unknown:
        raise ValueError(f"not category fields: {sorted(unknown)}")
    values = {
        key: value.strip() if isinstance(value, str) else value for key, value in data.items()
    }
    _check_category(category, values)
    if "attributes" in values:
        values["attributes"] = check_attributes(values["attributes"])
    for key, value in values.items():
        setattr(category, key, value)


def _check_category(category: Category, values: dict) -> None:
    if "kind" in values:
        _check_kind(category, values["kind"])
    if "code" in values:
        _check_code(category, values["code"])
    for field in ("name_fr", "name_en"):
        if field in values and not values[field]:
            raise Invalid(_("Give a name."), field=field)
    if values.get("department_id") is not None:
        row_in_city(Department, values["department_id"], category.city_id, "department_id")
    sla = values.get("sla_hours")
    if sla is not None and (isinstance(sla, bool) or not isinstance(sla, int) or sla < 1):
        raise Invalid(_("Give a whole number of hours, 1 or more."), field="sla_hours")
    if "default_priority" in values and values["default_priority"] not in Priority.NAMES:
        raise Invalid(_("Choose a priority from 1 (urgent) to 4 (low)."), field="default_priority")


def _check_kind(category: Category, kind: str) -> None:
    """A problem or a suggestion; fixed once reports use the category, since each report
    follows the lifecycle of its kind."""
    if kind not in set(Kind):
        raise Invalid(_("Choose one of the list."), field="kind")
    if category.id is not None and kind != category.kind and _report_count(category):
        raise Invalid(_("Reports already use this category: its kind cannot change."), field="kind")


def _report_count(category: Category) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Report).where(Report.category_id == category.id)
    )


def _check_code(category: Category, code: str) -> None:
    """Open311 service codes: short, URL-safe, unique in the city."""
    if not code or len(code) > 64 or set(code) - set(CATEGORY_CODE_CHARACTERS):
        raise Invalid(_("Give a code of letters, digits, - _ or . (at most 64)."), field="code")
    query = sa.select(Category).where(Category.city_id == category.city_id, Category.code == code)
    if category.id is not None:
        query = query.where(Category.id != category.id)
    other = db.session.scalar(query)
    if other is not None:
        raise Invalid(
            _("%(name)s already has the code %(code)s.", name=other.name_en, code=code),
            field="code",
        )


def delete_category(category: Category, *, actor: Actor) -> None:
    """Delete a category no report uses; its routing rules and reply templates go with it.

    Raises NotAllowed; Conflict when reports use it (make it inactive instead).
    """
    require_admin(actor, category.city_id)
    count = _report_count(category)
    if count:
        raise Conflict(
            _(
                "%(count)s report(s) use this category: make it inactive instead.",
                count=count,
            )
        )
    for model in (RoutingRule, ReplyTemplate):
        rows = db.session.scalars(sa.select(model).where(model.category_id == category.id))
        for row in rows.all():
            delete_recorded(row, actor)
    delete_recorded(category, actor)
