"""Escalating overdue tickets to their department's managers, once per ticket."""

from datetime import datetime

import sqlalchemy as sa

from tellcity.accounts.models import Role, User
from tellcity.core.db import utcnow
from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.notify import services as notify
from tellcity.reports.models import Report, ReportEvent
from tellcity.reports.states import EventType
from tellcity.sla.queries import overdue


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
    db.session.add(
        ReportEvent(
            report=report,
            type=EventType.ESCALATION,
            text=f"Overdue since {report.due_at:%Y-%m-%d %H:%M} UTC: escalated to {names}",
            created_at=now,
            **Actor.system("SLA escalation").event_fields,
        )
    )
    notify.notify_escalation(report, list(managers))
