"""Who is acting, and what they may do to a report. Services take the actor explicitly
(`actor=`), so the web, the APIs, the CLI and tests go through the same checks."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tellcity.accounts.models import Role, User

if TYPE_CHECKING:
    from tellcity.departments.models import Department
    from tellcity.reports.models import Report


@dataclass(frozen=True)
class Actor:
    """A signed-in user; the reporter of one report (proved by a signed link); an API client;
    a department's own Open311 system, whose updates the worker brings back; or the system
    itself (the worker, an import, a command)."""

    kind: str
    user: User | None = None
    label: str = ""
    report_id: int | None = None
    department_id: int | None = None

    @classmethod
    def of(cls, user: User) -> "Actor":
        return cls("user", user=user, label=user.name or user.email)

    @classmethod
    def reporter(cls, report: "Report") -> "Actor":
        return cls("reporter", label="reporter", report_id=report.id)

    @classmethod
    def api(cls, name: str) -> "Actor":
        return cls("api", label=f"API key {name}")

    @classmethod
    def remote(cls, department: "Department") -> "Actor":
        """The department's own Open311 system (tellcity.open311.client.updates): it acts on
        the reports forwarded to it, as the department's staff would, under its name."""
        return cls("remote", label=department.name, department_id=department.id)

    @classmethod
    def system(cls, label: str = "system") -> "Actor":
        return cls("system", label=label)

    @property
    def role(self) -> str | None:
        return self.user.role if self.user else None

    @property
    def event_fields(self) -> dict:
        """The actor columns of a ReportEvent."""
        return {"actor_id": self.user.id if self.user else None, "actor_label": self.label}


def is_reporter_of(actor: Actor, report: "Report") -> bool:
    """The resident who made `report`, acting through its signed link."""
    return actor.kind == "reporter" and actor.report_id == report.id


def _in_city(user: User, report: "Report") -> bool:
    return user.city_id is None or user.city_id == report.city_id


def can_view(actor: Actor, report: "Report") -> bool:
    """Staff view of a ticket: its department's agents and managers, the mayor's office and
    administrators of its city."""
    user = actor.user
    if user is None or not user.is_active:
        return False
    if user.role in (Role.ADMIN, Role.MAYOR):
        return _in_city(user, report)
    if user.role in (Role.AGENT, Role.MANAGER):
        return user.department_id == report.department_id
    return False


def can_handle(actor: Actor, report: "Report") -> bool:
    """Acknowledge, progress, resolve, close, reply, note: the department's staff and admins,
    and the department's own Open311 system (or the outside body's the report was referred
    to, whose updates come back as replies)."""
    if actor.kind == "remote":
        return actor.department_id in (report.department_id, report.referred_to_id)
    user = actor.user
    if user is None or not user.is_active:
        return False
    if user.role == Role.ADMIN:
        return _in_city(user, report)
    return user.role in (Role.AGENT, Role.MANAGER) and user.department_id == report.department_id


def can_manage(actor: Actor, report: "Report") -> bool:
    """Assign to others, transfer, reopen a closed ticket: the department's managers and admins
    (and its own Open311 system, which reopens what it reopened there)."""
    if actor.kind == "remote":
        return actor.department_id == report.department_id
    user = actor.user
    if not can_handle(actor, report):
        return False
    return user.role in (Role.ADMIN, Role.MANAGER)


def can_transfer(actor: Actor, report: "Report") -> bool:
    """Managers, admins, and the triage desk's agents, whose job is to send tickets on."""
    if can_manage(actor, report):
        return True
    return can_handle(actor, report) and report.department.is_triage


def can_export_contacts(actor: Actor) -> bool:
    """Reporters' names, email addresses and phone numbers in an export (a spreadsheet leaves
    the system for good): managers and administrators only."""
    user = actor.user
    return user is not None and user.is_active and user.role in (Role.MANAGER, Role.ADMIN)
