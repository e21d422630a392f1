"""Escalating overdue tickets to their department's managers, once per ticket."""

from datetime import datetime

import sqlalchemy as sa

from tellcity.accounts.models import Role, User
from tellcity.core.db import utcnow
from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.notify import services as notify
from tellcity.reports.events import new_event
from tellcity.reports.models import Report
from tellcity.reports.states import EventType
from tellcity.sla.queries import overdue

ESCALATOR = Actor.system("SLA escalation")


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
