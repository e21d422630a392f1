"""An overdue ticket escalates to someone: its department's managers, else its city's
administrators, else the department's escalation address. When nobody can be told it is not
marked escalated, and it escalates once someone is added; meanwhile it never holds up the
tickets someone can be told of."""

from datetime import UTC, timedelta

import pytest
import sqlalchemy as sa

from tellcity.core.db import utcnow
from tellcity.departments.escalation import escalation_contacts, unreachable_departments
from tellcity.extensions import db
from tellcity.notify.models import OutboxMessage
from tellcity.notify.worker import run_worker
from tellcity.reports.models import Report, ReportEvent
from tellcity.sla.services import escalate_overdue
from tests.factories import make_city, make_department, make_user
from tests.notify.helpers import composed, reported


@pytest.fixture
def city():
    return make_city(timezone="Europe/Paris")


def overdue_report(department, hours_late: float = 1):
    return reported(department, due_at=utcnow() - timedelta(hours=hours_late))


def outbox_to(address: str) -> list[OutboxMessage]:
    query = sa.select(OutboxMessage).where(OutboxMessage.recipient == address)
    return composed(db.session.scalars(query).all())


def escalations(report: Report) -> list[ReportEvent]:
    query = sa.select(ReportEvent).where(
        ReportEvent.report_id == report.id, ReportEvent.type == "escalation"
    )
    return db.session.scalars(query).all()


def test_a_department_with_managers_escalates_to_its_active_managers(app, city):
    department = make_department(city)
    make_user(role="admin", city=city, email="admin@city.example.org")
    chef = make_user(
        role="manager", department=department, email="chef@city.example.org", name="Chef"
    )
    make_user(role="manager", department=department, email="gone@city.example.org", is_active=False)
    report = overdue_report(department)
    now = utcnow()
    assert escalate_overdue(now=now) == 1
    assert report.escalated_at == now
    [event] = escalations(report)
    assert not event.is_public and event.text == ""
    assert event.data == {
        "message": "escalation",
        "due_at": report.due_at.astimezone(UTC).isoformat(),
        "contacts": ["Chef"],
        "via": "managers",
    }
    [email] = outbox_to(chef.email)
    assert report.reference in email.body and "Chef" in email.body
    assert outbox_to("gone@city.example.org") == outbox_to("admin@city.example.org") == []


def test_without_a_manager_the_citys_administrators_are_told(app, city):
    department = make_department(city)
    make_user(role="admin", city=city, email="admin@city.example.org", name="Camille")
    make_user(role="admin", city=make_city(), email="admin@elsewhere.example.org")
    make_user(role="admin", email="root@example.org")  # of every city, of none in particular
    report = overdue_report(department)
    assert escalate_overdue() == 1
    [event] = escalations(report)
    assert (event.data["via"], event.data["contacts"]) == ("admins", ["Camille"])
    assert len(outbox_to("admin@city.example.org")) == 1
    assert outbox_to("admin@elsewhere.example.org") == outbox_to("root@example.org") == []


def test_with_nobody_else_the_escalation_address_is_told(app, city):
    department = make_department(city, escalation_email="astreinte@city.example.org")
    report = overdue_report(department)
    assert escalate_overdue() == 1
    [event] = escalations(report)
    assert event.data["via"] == "address"
    assert event.data["contacts"] == ["astreinte@city.example.org"]
    [email] = outbox_to("astreinte@city.example.org")
    assert report.reference in email.subject


def test_nobody_to_tell_leaves_the_ticket_unescalated_until_a_manager_comes(app, city, smtp):
    department = make_department(city)
    report = overdue_report(department)
    assert escalation_contacts(department).via is None
    assert escalate_overdue() == 0
    assert report.escalated_at is None and escalations(report) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    chef = make_user(role="manager", department=department, email="chef@city.example.org")
    db.session.commit()

    run_worker(app, once=True, roles=("deliveries", "escalations"))
    db.session.expire_all()
    assert db.session.get(Report, report.id).escalated_at is not None
    [received] = smtp.to(chef.email)
    assert report.reference in received["Subject"]


def test_tickets_nobody_can_be_told_of_do_not_hold_up_the_others(app, city, cli):
    silent = make_department(city)
    unheard = [overdue_report(silent, hours_late=48 + n) for n in range(5)]
    heard = overdue_report(make_department(city, escalation_email="ops@city.example.org"))
    db.session.commit()
    assert escalate_overdue(batch=2) == 1  # the batch is not filled with the unheard ones
    assert heard.escalated_at is not None
    assert escalate_overdue(batch=2) == 0
    assert all(report.escalated_at is None for report in unheard)
    db.session.commit()
    result = cli.invoke(args=["escalate"])  # loops until nothing is left: it ends
    assert result.exit_code == 0 and "Escalated 0 overdue ticket(s)." in result.output


def test_the_rule_and_the_administrations_list_agree(app, city):
    with_manager, with_address, with_nobody, with_gone_manager = (
        make_department(city, name="A"),
        make_department(city, name="B", escalation_email="b@city.example.org"),
        make_department(city, name="C"),
        make_department(city, name="D"),
    )
    make_user(role="manager", department=with_manager)
    make_user(role="manager", department=with_gone_manager, is_active=False)
    make_user(role="admin", city=make_city())
    departments = [with_manager, with_address, with_nobody, with_gone_manager]
    listed = unreachable_departments(city.id)
    assert listed == [with_nobody, with_gone_manager]
    for department in departments:
        assert (escalation_contacts(department).via is None) == (department in listed)
    make_user(role="admin", city=city)
    assert unreachable_departments(city.id) == []
    assert all(escalation_contacts(d).via for d in departments)


def test_the_demo_citys_escalations_all_reach_someone(demo_city, staff):
    assert unreachable_departments(demo_city.id) == []
    contacts = {
        department.slug: escalation_contacts(department)
        for department in demo_city_departments(demo_city)
    }
    assert contacts["voirie"].via == "managers"
    assert contacts["eclairage"].via == "admins"
    assert [c.email for c in contacts["eclairage"].people] == ["admin@issy.example.org"]


def demo_city_departments(city):
    from tellcity.departments.models import Department

    return db.session.scalars(sa.select(Department).where(Department.city_id == city.id))
