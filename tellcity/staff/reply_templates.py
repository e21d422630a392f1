"""Changes to a city's reply templates, the canned answers staff start a reply from:
administrators manage all of the city's, managers their own department's.

Each service takes the acting `actor=`, checks that they may make the change (raising NotAllowed,
see tellcity.admin.access), validates it (raising Invalid with the form field at fault, or
Conflict), records an AuditEntry with the values before and after, and flushes; the caller
commits."""

from collections.abc import Mapping

from flask_babel import gettext as _

from tellcity.admin.access import is_admin, is_manager_of, require
from tellcity.admin.validation import row_in_city
from tellcity.audit.services import delete_recorded, record, snapshot
from tellcity.categories.models import Category
from tellcity.cities.models import City
from tellcity.core.errors import Invalid
from tellcity.core.permissions import Actor
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.reports.states import Status
from tellcity.staff.models import ReplyTemplate

TEMPLATE_FIELDS = ("title", "body", "department_id", "category_id", "status", "is_active")


def create_reply_template(city: City, data: Mapping, *, actor: Actor) -> ReplyTemplate:
    """Add a reply template (`data` holds TEMPLATE_FIELDS). A manager's templates are for
    their own department, whatever `data` says.

    Raises NotAllowed; Invalid for an empty title or body, a department or category of
    another city, or an unknown status.
    """
    template = ReplyTemplate(city_id=city.id)
    _apply_template(template, data, actor)
    db.session.add(template)
    record(actor, "create", template)
    return template


def update_reply_template(template: ReplyTemplate, data: Mapping, *, actor: Actor) -> None:
    """Change a reply template; managers change only their department's. Raises as
    create_reply_template."""
    require(_may_edit_template(actor, template.city_id, template.department_id))
    before = snapshot(template)
    _apply_template(template, data, actor)
    record(actor, "update", template, before)


def delete_reply_template(template: ReplyTemplate, *, actor: Actor) -> None:
    """Delete a reply template; managers only their department's. Raises NotAllowed."""
    require(_may_edit_template(actor, template.city_id, template.department_id))
    delete_recorded(template, actor)


def _may_edit_template(actor: Actor, city_id: int, department_id: int | None) -> bool:
    return is_admin(actor, city_id) or is_manager_of(actor, department_id)


def _apply_template(template: ReplyTemplate, data: Mapping, actor: Actor) -> None:
    values = {key: data[key] for key in TEMPLATE_FIELDS}
    if not is_admin(actor, template.city_id):
        values["department_id"] = actor.user.department_id if actor.user else None
    require(_may_edit_template(actor, template.city_id, values["department_id"]))
    for field in ("title", "body"):
        values[field] = (values[field] or "").strip()
        if not values[field]:
            raise Invalid(_("This field is required."), field=field)
    for model, field in ((Department, "department_id"), (Category, "category_id")):
        if values[field] is not None:
            row_in_city(model, values[field], template.city_id, field)
    values["status"] = values["status"] or None
    if values["status"] is not None and values["status"] not in set(Status):
        raise Invalid(_("Choose one of the list."), field="status")
    for key, value in values.items():
        setattr(template, key, value)
