"""Who may change which part of the configuration. Administrators change everything in their
city (an administrator without a city, every city); a department's managers change their own
categories' service settings and their own reply templates. The views guard their routes by
role; the services check these rules again, so the CLI and tests go through them too. Whoever
runs a command on the server (the CLI actor) may change everything: they hold the database."""

from flask_babel import gettext as _

from tellcity.accounts.models import Role
from tellcity.core.errors import NotAllowed
from tellcity.core.permissions import Actor

#: What a manager may change in a category of their department.
MANAGER_CATEGORY_FIELDS = frozenset(
    {"sla_hours", "description_fr", "description_en", "default_priority", "attributes"}
)

#: The operator at the server's command line (`tellcity create-user`...), named "cli" in the
#: audit log.
CLI = Actor("cli", label="cli")


def is_admin(actor: Actor, city_id: int | None) -> bool:
    """Whether `actor` is an active administrator of the city `city_id` (None: of every city),
    or the CLI."""
    if actor.kind == CLI.kind:
        return True
    user = actor.user
    if user is None or not user.is_active or user.role != Role.ADMIN:
        return False
    return user.city_id is None or user.city_id == city_id


def is_manager_of(actor: Actor, department_id: int | None) -> bool:
    """Whether `actor` is an active manager of the department `department_id`."""
    user = actor.user
    if user is None or not user.is_active or user.role != Role.MANAGER:
        return False
    return department_id is not None and user.department_id == department_id


def require(allowed: bool) -> None:
    """Raise NotAllowed unless `allowed`."""
    if not allowed:
        raise NotAllowed(_("You may not change this."))


def require_admin(actor: Actor, city_id: int | None) -> None:
    require(is_admin(actor, city_id))


def can_edit_category(actor: Actor, city_id: int, department_id: int | None) -> bool:
    """Administrators, and the managers of the category's default department."""
    return is_admin(actor, city_id) or is_manager_of(actor, department_id)


def can_edit_template(actor: Actor, city_id: int, department_id: int | None) -> bool:
    """Administrators; managers only for their own department's templates."""
    return is_admin(actor, city_id) or is_manager_of(actor, department_id)
