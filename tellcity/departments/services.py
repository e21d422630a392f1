"""Changes to a city's departments: create, update (delivery and its webhook secret, or its
Open311 system's endpoint, write-only API key and jurisdiction), delete.

Each service takes the acting `actor=`, checks that they may make the change (raising NotAllowed,
see tellcity.admin.access), validates it (raising Invalid with the form field at fault, or
Conflict), records an AuditEntry with the values before and after, and flushes; the caller
commits."""

import secrets
from collections.abc import Mapping

import sqlalchemy as sa
from flask_babel import gettext as _

from tellcity.accounts.models import User
from tellcity.admin.access import require_admin
from tellcity.audit.services import delete_recorded, record, snapshot
from tellcity.categories.models import Category
from tellcity.cities.models import City
from tellcity.core.errors import Conflict, Invalid
from tellcity.core.permissions import Actor
from tellcity.core.slugs import unique_slug
from tellcity.departments.models import Delivery, Department
from tellcity.extensions import db
from tellcity.reports.models import Report
from tellcity.routing.models import RoutingRule
from tellcity.staff.models import ReplyTemplate

DEPARTMENT_FIELDS = (
    "name",
    "email",
    "delivery_method",
    "webhook_url",
    "open311_endpoint",
    "open311_jurisdiction",
    "is_external",
    "is_triage",
    "escalation_email",
)


def create_department(city: City, data: Mapping, *, actor: Actor) -> tuple[Department, str | None]:
    """Add a department (`data` holds DEPARTMENT_FIELDS). Returns it and, for webhook
    delivery, the secret its calls are signed with, to show once.

    Raises NotAllowed; Invalid for a missing email or webhook URL, or a second triage desk.
    """
    require_admin(actor, city.id)
    department = Department(city_id=city.id, slug=unique_slug(Department, city.id, data["name"]))
    secret = _apply_department(department, data, new_secret=False)
    db.session.add(department)
    record(actor, "create", department)
    return department, secret


def update_department(
    department: Department, data: Mapping, *, actor: Actor, new_secret: bool = False
) -> str | None:
    """Change a department; its slug stays. Returns its webhook secret when one was made
    (`new_secret`, or webhook delivery without a secret yet), to show once.

    Raises NotAllowed; Invalid as create_department.
    """
    require_admin(actor, department.city_id)
    before = snapshot(department)
    secret = _apply_department(department, data, new_secret)
    record(actor, "update", department, before)
    return secret


def _apply_department(department: Department, data: Mapping, new_secret: bool) -> str | None:
    values = {key: data.get(key) for key in DEPARTMENT_FIELDS}
    values["name"] = (values["name"] or "").strip()
    for field in ("email", "escalation_email"):
        values[field] = (values[field] or "").strip().lower() or None
    for field in ("webhook_url", "open311_endpoint", "open311_jurisdiction"):
        values[field] = (values.get(field) or "").strip() or None
    # Write-only: an empty field keeps the key saved before.
    api_key = (data.get("open311_api_key") or "").strip()
    _check_department(department, values)
    if values["open311_endpoint"] != department.open311_endpoint:
        department.open311_offers_updates = None  # another system: ask it again (open311.client)
    for key, value in values.items():
        setattr(department, key, value)
    if api_key:
        department.open311_api_key = api_key
    if department.delivery_method == Delivery.WEBHOOK and (
        new_secret or not department.webhook_secret
    ):
        department.webhook_secret = secrets.token_urlsafe(32)
        return department.webhook_secret
    return None


def _check_department(department: Department, values: dict) -> None:
    if not values["name"]:
        raise Invalid(_("Give a name."), field="name")
    if values["delivery_method"] not in set(Delivery):
        raise Invalid(_("Choose one of the list."), field="delivery_method")
    for field in ("email", "escalation_email"):
        if values[field] is not None and "@" not in values[field]:
            raise Invalid(_("This is not an email address."), field=field)
    if values["delivery_method"] == Delivery.EMAIL and values["email"] is None:
        raise Invalid(_("Email delivery needs an email address."), field="email")
    url = values["webhook_url"]
    if url is not None and not url.startswith(("https://", "http://")):
        raise Invalid(_("Give an http:// or https:// address."), field="webhook_url")
    if values["delivery_method"] == Delivery.WEBHOOK and url is None:
        raise Invalid(_("Webhook delivery needs the address to call."), field="webhook_url")
    endpoint = values["open311_endpoint"]
    if endpoint is not None and not endpoint.startswith(("https://", "http://")):
        raise Invalid(_("Give an http:// or https:// address."), field="open311_endpoint")
    if values["delivery_method"] == Delivery.OPEN311 and endpoint is None:
        raise Invalid(_("Open311 delivery needs the system's endpoint."), field="open311_endpoint")
    if values["is_triage"]:
        _check_one_triage_desk(department)


def _check_one_triage_desk(department: Department) -> None:
    """A city has one triage desk (a unique index says so): refuse a second one."""
    query = sa.select(Department).where(
        Department.city_id == department.city_id, Department.is_triage
    )
    if department.id is not None:
        query = query.where(Department.id != department.id)
    desk = db.session.scalar(query)
    if desk is not None:
        raise Invalid(
            _(
                "A city has only one triage desk, and %(name)s is it: untick it there first.",
                name=desk.name,
            ),
            field="is_triage",
        )


def delete_department(department: Department, *, actor: Actor) -> None:
    """Delete a department nothing depends on; its reply templates go with it.

    Raises NotAllowed; Conflict for the triage desk, or while reports, users, categories (by
    default) or routing rules point to it: they must go elsewhere first.
    """
    require_admin(actor, department.city_id)
    if department.is_triage:
        raise Conflict(_("The triage desk cannot be deleted: make another department the desk."))
    uses = _department_uses(department)
    if uses:
        raise Conflict(
            _("%(name)s cannot be deleted while it has %(uses)s.", name=department.name, uses=uses)
        )
    templates = sa.select(ReplyTemplate).where(ReplyTemplate.department_id == department.id)
    for template in db.session.scalars(templates).all():
        delete_recorded(template, actor)
    delete_recorded(department, actor)


def _department_uses(department: Department) -> str:
    """What still points to the department, in words ("" when nothing does)."""
    counts = (
        (Report, Report.department_id, _("%(count)s report(s)")),
        (User, User.department_id, _("%(count)s user(s)")),
        (Category, Category.department_id, _("%(count)s category(ies) by default")),
        (RoutingRule, RoutingRule.department_id, _("%(count)s routing rule(s)")),
    )
    uses = []
    for model, column, words in counts:
        count = db.session.scalar(
            sa.select(sa.func.count()).select_from(model).where(column == department.id)
        )
        if count:
            uses.append(words % {"count": count})
    return ", ".join(uses)
