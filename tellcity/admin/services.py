"""Changes to a city's configuration. Each service takes the acting `actor=`, checks that they
may make the change (raising NotAllowed, see tellcity.admin.access), validates it (raising
Invalid with the form field at fault, or Conflict), records an AuditEntry with the values before
and after, and flushes; the request commits once."""

import secrets
from collections.abc import Iterable, Mapping

import sqlalchemy as sa
from flask_babel import gettext as _

from tellcity.accounts.models import DEPARTMENT_ROLES, ApiKey, Role, User
from tellcity.accounts.services import AccountError, create_user
from tellcity.admin.access import (
    MANAGER_CATEGORY_FIELDS,
    is_admin,
    is_manager_of,
    require,
    require_admin,
)
from tellcity.admin.validation import ZoneShape, check_attributes, check_zone_layout
from tellcity.audit.services import record, snapshot
from tellcity.categories.models import Category
from tellcity.cities.models import City, Zone
from tellcity.core.errors import Conflict, Invalid
from tellcity.core.permissions import Actor
from tellcity.departments.models import Delivery, Department
from tellcity.extensions import db
from tellcity.geo.places import zone_id_at
from tellcity.geo.shapes import bbox, to_geojson
from tellcity.imports.writer import slugify
from tellcity.open311 import services as open311
from tellcity.reports.models import Report
from tellcity.reports.states import Kind, Priority, Status
from tellcity.routing.models import RoutingRule
from tellcity.staff.models import ReplyTemplate


def _delete(row, actor: Actor) -> None:
    """Delete `row` and record it."""
    before = snapshot(row)
    db.session.delete(row)
    record(actor, "delete", row, before)


def _row_in_city(model, row_id: int | None, city_id: int, field: str):
    """The `model` row `row_id` of the city, or Invalid on `field`."""
    row = db.session.get(model, row_id) if row_id is not None else None
    if row is None or row.city_id != city_id:
        raise Invalid(_("Choose one of the list."), field=field)
    return row


def _unique_slug(model, city_id: int, name: str) -> str:
    """A slug of `name` that no other `model` row of the city has."""
    base = slugify(name, max_length=56)
    taken = set(db.session.scalars(sa.select(model.slug).where(model.city_id == city_id)))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


# --- Departments -----------------------------------------------------------------------------

DEPARTMENT_FIELDS = ("name", "email", "delivery_method", "webhook_url", "is_external", "is_triage")


def create_department(city: City, data: Mapping, *, actor: Actor) -> tuple[Department, str | None]:
    """Add a department (`data` holds DEPARTMENT_FIELDS). Returns it and, for webhook
    delivery, the secret its calls are signed with, to show once.

    Raises NotAllowed; Invalid for a missing email or webhook URL, or a second triage desk.
    """
    require_admin(actor, city.id)
    department = Department(city_id=city.id, slug=_unique_slug(Department, city.id, data["name"]))
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
    values = {key: data[key] for key in DEPARTMENT_FIELDS}
    values["name"] = (values["name"] or "").strip()
    values["email"] = (values["email"] or "").strip().lower() or None
    values["webhook_url"] = (values["webhook_url"] or "").strip() or None
    _check_department(department, values)
    for key, value in values.items():
        setattr(department, key, value)
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
    if values["email"] is not None and "@" not in values["email"]:
        raise Invalid(_("This is not an email address."), field="email")
    if values["delivery_method"] == Delivery.EMAIL and values["email"] is None:
        raise Invalid(_("Email delivery needs an email address."), field="email")
    url = values["webhook_url"]
    if url is not None and not url.startswith(("https://", "http://")):
        raise Invalid(_("Give an http:// or https:// address."), field="webhook_url")
    if values["delivery_method"] == Delivery.WEBHOOK and url is None:
        raise Invalid(_("Webhook delivery needs the address to call."), field="webhook_url")
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
        _delete(template, actor)
    _delete(department, actor)


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


# --- Categories ------------------------------------------------------------------------------

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
        _row_in_city(Department, values["department_id"], category.city_id, "department_id")
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
            _delete(row, actor)
    _delete(category, actor)


# --- Zones -----------------------------------------------------------------------------------


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
        slug=_unique_slug(Zone, city.id, shape.name),
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
    for zone_id, report_ids in by_zone.items():
        for start in range(0, len(report_ids), 500):
            db.session.execute(
                sa.update(Report)
                .where(Report.id.in_(report_ids[start : start + 500]))
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
        _delete(rule, actor)
    _delete(zone, actor)


# --- Routing rules ---------------------------------------------------------------------------


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
    _row_in_city(Category, category_id, city.id, "category_id")
    if zone_id is not None:
        _row_in_city(Zone, zone_id, city.id, "zone_id")
    _row_in_city(Department, department_id, city.id, "department_id")
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
    _delete(rule, actor)


# --- Users and roles -------------------------------------------------------------------------


def create_account(city: City, data: Mapping, *, actor: Actor) -> tuple[User, str]:
    """Open an account in `city` (`data`: email, name, role, department_id) with a generated
    password. Returns the user and the password, to show once: only its hash is kept.

    Raises NotAllowed; Invalid for an address already used, an unknown role, or an agent or a
    manager without a department of the city.
    """
    require_admin(actor, city.id)
    email = (data["email"] or "").strip().lower()
    if "@" not in email:
        raise Invalid(_("This is not an email address."), field="email")
    if db.session.scalar(sa.select(User.id).where(User.email == email)):
        raise Invalid(_("An account for %(email)s already exists.", email=email), field="email")
    department = _role_department(city.id, data["role"], data["department_id"])
    try:
        user, password = create_user(
            email,
            role=data["role"],
            name=(data["name"] or "").strip(),
            city=city,
            department=department,
        )
    except AccountError as error:
        raise Invalid(str(error), field="email") from None
    record(actor, "create", user)
    return user, password


def _role_department(city_id: int, role: str, department_id: int | None) -> Department | None:
    """The department a user of `role` belongs to: required for agents and managers, none for
    the other roles."""
    if role not in set(Role):
        raise Invalid(_("Choose one of the list."), field="role")
    if role not in DEPARTMENT_ROLES:
        return None
    if department_id is None:
        raise Invalid(
            _("Agents and managers belong to a department: choose one."), field="department_id"
        )
    return _row_in_city(Department, department_id, city_id, "department_id")


def update_account(user: User, data: Mapping, *, actor: Actor) -> None:
    """Change a user's name, role and department (`data`: name, role, department_id).

    Raises NotAllowed; Invalid for an administrator changing their own role, or a department
    missing or of another city.
    """
    require_admin(actor, user.city_id)
    if user.id == actor.user.id and data["role"] != user.role:
        raise Invalid(
            _("You cannot change your own role: ask another administrator."), field="role"
        )
    department = _role_department(user.city_id, data["role"], data["department_id"])
    before = snapshot(user)
    user.name = (data["name"] or "").strip()
    user.role = data["role"]
    user.department = department
    record(actor, "update", user, before)


def set_account_active(user: User, is_active: bool, *, actor: Actor) -> None:
    """Deactivate an account (its owner can no longer sign in) or reactivate it.

    Raises NotAllowed; Conflict for an administrator deactivating themselves.
    """
    require_admin(actor, user.city_id)
    if user.id == actor.user.id and not is_active:
        raise Conflict(_("You cannot deactivate your own account."))
    before = snapshot(user)
    user.is_active = is_active
    record(actor, "update", user, before)


# --- Reply templates -------------------------------------------------------------------------

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
    _delete(template, actor)


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
            _row_in_city(model, values[field], template.city_id, field)
    values["status"] = values["status"] or None
    if values["status"] is not None and values["status"] not in set(Status):
        raise Invalid(_("Choose one of the list."), field="status")
    for key, value in values.items():
        setattr(template, key, value)


# --- API keys --------------------------------------------------------------------------------


def issue_api_key(
    city: City, *, name: str, scopes: Iterable[str], actor: Actor
) -> tuple[ApiKey, str]:
    """Make an API key for `city`. Returns the key row and the key itself, to show once:
    only its hash is kept.

    Raises NotAllowed; Invalid for an empty name, no scope, or a scope the keys do not
    know (tellcity.open311.services.SCOPES).
    """
    require_admin(actor, city.id)
    name, scopes = (name or "").strip(), list(dict.fromkeys(scopes))
    if not name:
        raise Invalid(_("Give a name."), field="name")
    if not scopes or set(scopes) - set(open311.SCOPES):
        raise Invalid(_("Choose at least one scope."), field="scopes")
    key, secret = open311.create_api_key(name, city=city, scopes=scopes, created_by=actor.user)
    record(actor, "create", key)
    return key, secret


def revoke_api_key(key: ApiKey, *, actor: Actor) -> None:
    """Revoke an API key for good. Raises NotAllowed; Conflict if it already is."""
    require_admin(actor, key.city_id)
    if key.revoked_at is not None:
        raise Conflict(_("This key is already revoked."))
    before = snapshot(key)
    open311.revoke_api_key(key)
    record(actor, "update", key, before)
