"""Who hears of a department's overdue tickets. One rule, read twice: by the SLA escalation
(tellcity.sla.services, who is emailed) and by the administration pages (which departments'
escalations would reach nobody).

The rule: the department's active managers; else, when it has none, its city's active
administrators; else the department's escalation address. A department none of these reach is
"unreachable": its overdue tickets wait, unescalated, until someone is added, and the
administration pages say so. `escalation_contacts` (Python, one department) and `is_reachable`
(SQL, any number of them) must agree; tests/sla/test_escalation_contacts.py holds them to it.
"""

from dataclasses import dataclass

import sqlalchemy as sa

from tellcity.accounts.models import Role, User
from tellcity.departments.models import Department
from tellcity.extensions import db

#: How an escalation reached its people, in the order they are tried.
MANAGERS, ADMINS, ADDRESS = "managers", "admins", "address"


@dataclass(frozen=True)
class Contact:
    """One person (or address) told of an overdue ticket, in their language when known."""

    name: str
    email: str
    locale: str | None = None


@dataclass(frozen=True)
class EscalationContacts:
    """Who a department's escalations go to, and by which step of the rule (`via`: MANAGERS,
    ADMINS, ADDRESS; None when nobody)."""

    via: str | None
    people: tuple[Contact, ...] = ()


def escalation_contacts(department: Department) -> EscalationContacts:
    """Who `department`'s overdue tickets are escalated to (see the module's docstring)."""
    managers = _users(_managers_of(department.id))
    if managers:
        return EscalationContacts(MANAGERS, managers)
    admins = _users(_admins_of(department.city_id))
    if admins:
        return EscalationContacts(ADMINS, admins)
    if department.escalation_email:
        return EscalationContacts(ADDRESS, (Contact("", department.escalation_email),))
    return EscalationContacts(None)


def is_reachable() -> sa.ColumnElement[bool]:
    """A filter on departments: those whose escalations reach someone (`escalation_contacts`
    is not empty)."""
    return sa.or_(
        sa.exists(_managers_of(Department.id)),
        sa.exists(_admins_of(Department.city_id)),
        Department.escalation_email.is_not(None),
    )


def unreachable_departments(city_id: int) -> list[Department]:
    """The city's departments whose overdue tickets nobody would hear of, by name."""
    query = (
        sa.select(Department)
        .where(Department.city_id == city_id, ~is_reachable())
        .order_by(Department.name)
    )
    return list(db.session.scalars(query))


def _managers_of(department_id) -> sa.Select:
    return sa.select(User).where(
        User.department_id == department_id, User.role == Role.MANAGER, User.is_active
    )


def _admins_of(city_id) -> sa.Select:
    return sa.select(User).where(User.city_id == city_id, User.role == Role.ADMIN, User.is_active)


def _users(query: sa.Select) -> tuple[Contact, ...]:
    users = db.session.scalars(query.order_by(User.id))
    return tuple(Contact(user.name or user.email, user.email, user.locale) for user in users)
