"""A report's deadlines: counted from its submission, and again from its reopening; escalating
overdue tickets to their department's managers, once per deadline."""

from datetime import datetime

import sqlalchemy as sa

from tellcity.accounts.models import Role, User
from tellcity.categories.models import Category
from tellcity.cities.models import City
from tellcity.core.db import utcnow
from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.notify import services as notify
from tellcity.reports.events import new_event
from tellcity.reports.models import Report
from tellcity.reports.states import EventType
from tellcity.sla.calendar import BusinessCalendar
from tellcity.sla.queries import overdue

ESCALATOR = Actor.system("SLA escalation")


def sla_deadlines(
    city: City, category: Category, start: datetime
) -> tuple[datetime | None, datetime | None]:
    """(at_risk_at, due_at) of a report of `category` counted from `start` in the business hours
    of `city`'s calendar; (None, None) for a category without a target. Raises ValueError for
    a calendar that never opens (BusinessCalendar.add_business_hours)."""
    if not category.sla_hours:
        return None, None
    return BusinessCalendar.for_city(city).sla_deadlines(start, category.sla_hours)


def restart_deadlines(report: Report, now: datetime) -> None:
    """Give a reopened `report` its category's full time again, counted from `now`: its old
    deadline has often passed, and its escalation belonged to that deadline, so the new one
    may escalate in its turn."""
    report.at_risk_at, report.due_at = sla_deadlines(report.city, report.category, now)
    report.escalated_at = None


def escalate_overdue(now: datetime | None = None, batch: int = 200) -> int:
    """Escalate up to `batch` overdue tickets not escalated yet: mark them, write an internal
    event and queue an email to each active manager of the department. Returns how many.

    On PostgreSQL the tickets are locked with SKIP LOCKED, so workers running this at the same
    time never escalate one ticket twice; SQLite serialises writers. The caller commits.
    """
    now = now or utcnow()
    query = (
        sa.select(Report)
        .where(overdue(now), Report.escalated_at.is_(None))
        .order_by(Report.due_at)
        .limit(batch)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Report)
    reports = db.session.scalars(query).all()
    for report in reports:
        _escalate(report, now)
    db.session.flush()
    return len(reports)


def _escalate(report: Report, now: datetime) -> None:
    managers = db.session.scalars(
        sa.select(User).where(
            User.department_id == report.department_id,
            User.role == Role.MANAGER,
            User.is_active,
        )
    ).all()
    report.escalated_at = now
    names = ", ".join(manager.email for manager in managers) or "no manager"
    text = f"Overdue since {report.due_at:%Y-%m-%d %H:%M} UTC: escalated to {names}"
    # Added, not recorded: the batch is flushed once (escalate_overdue).
    db.session.add(new_event(report, ESCALATOR, EventType.ESCALATION, text=text, now=now))
    notify.notify_escalation(report, list(managers))
