"""The outbox page: administrators see the messages waiting and those given up on (to whom,
why, how many attempts, when next), retry or drop one (both in the audit log), and the staff
queue warns them when messages are failing. The administration pages warn of departments
whose overdue tickets nobody would hear of."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tellcity.core.db import utcnow
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.notify.models import OutboxMessage
from tellcity.notify.worker import run_worker
from tests.admin.helpers import audit, flashes, fresh, post
from tests.notify.helpers import free_port
from tests.reports.helpers import department, submit
from tests.web.helpers import text

DEPARTMENT = "voirie@issy.example.org"  # the road works department is told by email
REPORTER = "jeanne@example.org"
ERROR = "SMTP: ConnectionRefusedError: [Errno 111] Connection refused"
WARNING = "outbox-warning"


def message_to(address: str) -> OutboxMessage:
    db.session.expire_all()
    return db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == address))


@pytest.fixture
def report(demo_city):
    """A pothole report: its department's email and the reporter's acknowledgement queued."""
    report = submit(demo_city, "pothole")
    db.session.commit()
    return report


@pytest.fixture
def dead(report):
    """The department's email, given up on yesterday after 8 attempts; the reporter's still
    waiting."""
    message = message_to(DEPARTMENT)
    message.status, message.attempts, message.last_error = "dead", 8, ERROR
    message.next_attempt_at = utcnow() - timedelta(hours=20)
    db.session.commit()
    return message


@pytest.fixture
def admin(client, login_as, demo_city):
    return login_as("admin")


def deliver(app) -> None:
    run_worker(app, once=True, roles=("deliveries",))


def test_the_outbox_lists_given_up_and_waiting_messages(client, admin, report, dead):
    page = client.get("/staff/admin/outbox")
    assert page.status_code == 200
    assert "no-store" in page.headers["Cache-Control"]  # recipients are personal data
    body = text(page)
    assert DEPARTMENT in body and ERROR in body and REPORTER not in body
    assert f"/staff/tickets/{report.reference}" in body
    assert f"/staff/admin/outbox/{dead.id}/retry" in body
    waiting = text(client.get("/staff/admin/outbox?show=pending"))
    assert REPORTER in waiting and DEPARTMENT not in waiting


def test_a_retried_message_is_sent_by_the_worker_and_audited(
    app, client, admin, demo_city, report, dead, smtp
):
    response = post(client, f"/staff/admin/outbox/{dead.id}/retry")
    assert response.status_code == 302
    assert flashes(client) == [f"Message {dead.id} is queued again: it is sent at once."]
    retried = fresh(OutboxMessage, dead.id)
    assert (retried.status, retried.attempts, retried.last_error) == ("pending", 0, ERROR)
    deliver(app)
    [received] = smtp.to(DEPARTMENT)
    assert report.reference in received["Subject"]
    assert fresh(OutboxMessage, dead.id).status == "sent"
    [entry] = audit("outbox_messages", dead.id, "retry")
    assert entry.actor_id == admin.id and entry.city_id == demo_city.id
    assert (entry.before["status"], entry.after["status"]) == ("dead", "pending")
    assert "recipient" not in entry.after and "body" not in entry.after
    again = post(client, f"/staff/admin/outbox/{dead.id}/retry")
    assert again.status_code == 302
    assert flashes(client) == ["This message is sent, not dead: it was left as it is."]


def test_a_dropped_message_is_never_sent(app, client, admin, report, dead, smtp):
    waiting = message_to(REPORTER)
    for message in (waiting, dead):
        post(client, f"/staff/admin/outbox/{message.id}/drop", {"show": "pending"})
        assert fresh(OutboxMessage, message.id).status == "dropped"
        [entry] = audit("outbox_messages", message.id, "drop")
        assert entry.actor_id == admin.id and entry.after["status"] == "dropped"
    deliver(app)
    assert smtp.messages == []
    for shown in ("dead", "pending"):
        body = text(client.get(f"/staff/admin/outbox?show={shown}"))
        assert REPORTER not in body and DEPARTMENT not in body
    post(client, f"/staff/admin/outbox/{dead.id}/retry")
    assert fresh(OutboxMessage, dead.id).status == "dropped"


def test_pages_are_keyset_paginated(client, admin, demo_city):
    for _ in range(3):
        submit(demo_city, "pothole")
    db.session.commit()
    from tellcity.notify import queries

    first, cursor = queries.outbox_page(admin.city_id, "pending", limit=4)
    second, last = queries.outbox_page(admin.city_id, "pending", after=cursor, limit=4)
    assert len(first) == 4 and len(second) == 2 and last is None
    ids = [row.message.id for row in first + second]
    assert len(set(ids)) == 6
    page = text(client.get(f"/staff/admin/outbox?show=pending&after={cursor}"))
    assert "First page" in page
    crafted = client.get("/staff/admin/outbox?show=pending&after=WyJ4IiwgMV0=")  # ["x", 1]
    assert crafted.status_code == 200


def test_the_queue_warns_administrators_when_messages_die(app, client, login_as, report):
    login_as("admin")
    assert WARNING not in text(client.get("/staff/"))
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), OUTBOX_MAX_ATTEMPTS=1)
    deliver(app)
    assert message_to(DEPARTMENT).status == "dead"
    queue = text(client.get("/staff/"))
    assert WARNING in queue and "/staff/admin/outbox" in queue
    assert WARNING in text(client.get("/staff/admin/"))
    login_as("chef.voirie")  # who could not open the outbox is not told of it
    assert WARNING not in text(client.get("/staff/"))


def test_the_queue_warns_of_messages_waiting_long_past_their_time(client, login_as, report):
    login_as("admin")
    message = message_to(REPORTER)
    message.next_attempt_at = utcnow() - timedelta(minutes=10)
    db.session.commit()
    assert WARNING not in text(client.get("/staff/"))
    message.next_attempt_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    assert WARNING in text(client.get("/staff/"))


@pytest.fixture
def root(login_as, staff):
    """The demo city's administrator made an administrator of every city: the city has none
    of its own left, so its departments without a manager have nobody to escalate to."""
    staff["admin"].city_id = None
    db.session.commit()
    return login_as("admin")


def test_departments_nobody_would_hear_of_are_shown_with_what_to_do(client, root, demo_city):
    listing = text(client.get("/staff/admin/departments"))
    assert "Nobody would hear of an overdue ticket of these departments" in listing
    assert "Add a manager to the department" in listing and "<strong>nobody</strong>" in listing
    lighting = department(demo_city, "eclairage")
    assert lighting.name in listing and "escalation-warning" in text(client.get("/staff/admin/"))
    form = text(client.get(f"/staff/admin/departments/{lighting.id}"))
    assert "Nobody would hear of an overdue ticket of this department" in form
    roads = department(demo_city, "voirie")  # has a manager
    assert "escalation-warning" not in text(client.get(f"/staff/admin/departments/{roads.id}"))

    fields = {"name": lighting.name, "email": lighting.email, "delivery_method": "dashboard"}
    refused = post(
        client, f"/staff/admin/departments/{lighting.id}", fields | {"escalation_email": "nope"}
    )
    assert refused.status_code == 422 and "This is not an email address." in text(refused)
    saved = post(
        client,
        f"/staff/admin/departments/{lighting.id}",
        fields | {"escalation_email": " Astreinte@Issy.example.org "},
    )
    assert saved.status_code == 302
    assert fresh(Department, lighting.id).escalation_email == "astreinte@issy.example.org"
    assert "escalation-warning" not in text(client.get(f"/staff/admin/departments/{lighting.id}"))


def test_the_department_list_says_who_hears_of_overdue_tickets(client, admin):
    listing = text(client.get("/staff/admin/departments"))
    assert "escalation-warning" not in listing  # the city has an administrator
    assert 'the department\'s managers<br><span class="hint">Dominique Chef-Voirie' in listing
    assert 'the city\'s administrators<br><span class="hint">Camille Admin' in listing


def test_a_message_a_worker_claimed_meanwhile_is_not_dropped(app, report, staff):
    from tellcity.core.errors import Conflict
    from tellcity.core.permissions import Actor
    from tellcity.notify.services import drop_message

    message = message_to(REPORTER)
    assert message.status == "pending"
    with db.engine.begin() as worker:  # another process claims it, after the page was read
        worker.execute(
            sa.update(OutboxMessage).where(OutboxMessage.id == message.id).values(status="sending")
        )
    with pytest.raises(Conflict):
        drop_message(message, actor=Actor.of(staff["admin"]))
    assert fresh(OutboxMessage, message.id).status == "sending"
