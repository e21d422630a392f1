"""Overdue tickets escalate to the department's managers exactly once."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.notify.models import OutboxMessage
from tellcity.reports.lifecycle import transition
from tellcity.reports.models import Report
from tellcity.sla.queries import at_risk, overdue, sla_state
from tellcity.sla.services import escalate_overdue
from tests.notify.helpers import composed
from tests.reports.helpers import submit

MONDAY_9AM_PARIS = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def refs(condition):
    return db.session.scalars(sa.select(Report.reference).where(condition)).all()


def test_at_risk_and_overdue_are_queryable(demo_city):
    report = submit(demo_city, "pothole", now=MONDAY_9AM_PARIS)
    assert sla_state(report, MONDAY_9AM_PARIS) == "on_time"
    assert refs(at_risk(report.at_risk_at)) == [report.reference]
    assert refs(overdue(report.at_risk_at)) == []
    assert sla_state(report, report.at_risk_at) == "at_risk"
    assert refs(overdue(report.due_at)) == [report.reference]
    assert refs(at_risk(report.due_at)) == []
    assert sla_state(report, report.due_at) == "overdue"


def test_overdue_tickets_escalate_to_their_managers_once(demo_city, staff):
    report = submit(demo_city, "pothole", now=MONDAY_9AM_PARIS)
    on_time = submit(demo_city, "pothole", now=MONDAY_9AM_PARIS + timedelta(days=7))
    later = report.due_at + timedelta(minutes=1)
    assert escalate_overdue(now=later) == 1
    assert escalate_overdue(now=later + timedelta(days=1)) == 0
    assert report.escalated_at == later and on_time.escalated_at is None
    [event] = [e for e in report.events if e.type == "escalation"]
    assert not event.is_public and event.text == ""
    assert event.data["via"] == "managers"
    assert event.data["contacts"] == ["Dominique Chef-Voirie"]
    to_manager = composed(
        db.session.scalars(
            sa.select(OutboxMessage).where(
                OutboxMessage.recipient == "chef.voirie@issy.example.org"
            )
        ).all()
    )
    assert len(to_manager) == 1 and report.reference in to_manager[0].body


def test_closed_tickets_do_not_escalate(demo_city, staff):
    report = submit(demo_city, "pothole", now=MONDAY_9AM_PARIS)
    transition(report, "resolved", Actor.of(staff["agent.voirie"]), text="Fait.")
    assert escalate_overdue(now=report.due_at + timedelta(days=1)) == 0


def test_the_escalate_command_and_the_worker_job_escalate(app, demo_city, cli):
    from tellcity.notify.worker import PERIODIC_JOBS, escalate_overdue_tickets

    first = submit(demo_city, "pothole", now=MONDAY_9AM_PARIS)
    second = submit(demo_city, "traffic-light", now=MONDAY_9AM_PARIS)
    db.session.commit()
    result = cli.invoke(args=["escalate"])
    assert result.exit_code == 0 and "Escalated 2 overdue ticket(s)." in result.output
    assert escalate_overdue_tickets in [job for _interval, job in PERIODIC_JOBS]
    db.session.expire_all()
    assert first.escalated_at is not None and second.escalated_at is not None
