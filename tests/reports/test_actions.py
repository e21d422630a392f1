"""Ticket actions that are not status changes: transfer, assignment, priority, replies, notes,
corrections, and the reporter's confirmation."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tellcity.core.errors import Invalid, NotAllowed
from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.notify.models import OutboxMessage
from tellcity.reports import services
from tellcity.reports.lifecycle import transition
from tellcity.reports.models import Subscription
from tests.notify.helpers import composed
from tests.reports.helpers import ILE_SAINT_GERMAIN, TOWN_HALL, category, department, submit


@pytest.fixture
def pothole(demo_city):
    return submit(demo_city, "pothole")


def as_(staff, name):
    return Actor.of(staff[name])


def recipients() -> list[str]:
    return db.session.scalars(sa.select(OutboxMessage.recipient).order_by(OutboxMessage.id)).all()


def test_a_manager_transfers_with_a_reason_and_the_new_department_is_told(
    demo_city, pothole, staff
):
    services.assign(pothole, staff["agent.voirie"], as_(staff, "chef.voirie"))
    due_at = pothole.due_at
    event = services.transfer(
        pothole,
        department(demo_city, "proprete"),
        as_(staff, "chef.voirie"),
        "Ce sont des gravats, pas un trou.",
    )
    assert pothole.department.slug == "proprete"
    assert pothole.assignee_id is None
    assert pothole.due_at == due_at and pothole.status == "new"
    assert (event.from_value, event.to_value, event.is_public) == ("voirie", "proprete", False)
    # The new department, then the reporter (told where it went: test_resident_emails.py).
    assert recipients()[-2:] == ["proprete@issy.example.org", "jeanne@example.org"]


def test_an_ordinary_agent_cannot_transfer_but_the_triage_desk_can(demo_city, staff):
    with pytest.raises(NotAllowed):
        services.transfer(
            submit(demo_city),
            department(demo_city, "proprete"),
            as_(staff, "agent.voirie"),
            "pas pour nous",
        )
    other = submit(demo_city, "other")  # lands at the front desk
    services.transfer(
        other, department(demo_city, "voirie"), as_(staff, "agent.accueil"), "C'est un nid-de-poule"
    )
    assert other.department.slug == "voirie"


def test_transfers_go_to_the_city_s_own_departments_with_a_reason(demo_city, pothole, staff):
    manager = as_(staff, "chef.voirie")
    with pytest.raises(Invalid):
        services.transfer(pothole, department(demo_city, "idf-mobilites"), manager, "refer")
    with pytest.raises(Invalid):
        services.transfer(pothole, department(demo_city, "proprete"), manager, "  ")


def test_agents_take_tickets_and_managers_assign_them(demo_city, pothole, staff):
    services.assign(pothole, staff["agent.voirie"], as_(staff, "agent.voirie"))
    assert pothole.assignee_id == staff["agent.voirie"].id
    with pytest.raises(NotAllowed):
        services.assign(pothole, staff["chef.voirie"], as_(staff, "agent.voirie"))
    with pytest.raises(Invalid):  # not a member of the department
        services.assign(pothole, staff["agent.proprete"], as_(staff, "chef.voirie"))
    services.assign(pothole, None, as_(staff, "chef.voirie"))
    assert pothole.assignee_id is None


def test_staff_of_another_department_and_the_mayor_cannot_touch_the_ticket(pothole, staff):
    for name in ("agent.proprete", "chef.proprete", "cabinet", "resident"):
        with pytest.raises(NotAllowed):
            services.set_priority(pothole, 1, as_(staff, name))
        with pytest.raises(NotAllowed):
            services.add_note(pothole, "note", as_(staff, name))


def test_priority_is_one_to_four(pothole, staff):
    services.set_priority(pothole, 1, as_(staff, "agent.voirie"))
    assert pothole.priority == 1
    with pytest.raises(Invalid):
        services.set_priority(pothole, 7, as_(staff, "agent.voirie"))


def test_a_public_reply_reaches_reporter_and_followers_a_note_reaches_nobody(pothole, staff):
    db.session.add(
        Subscription(
            report_id=pothole.id, email="voisin@example.org", token="tk", is_confirmed=True
        )
    )
    before = len(recipients())
    note = services.add_note(pothole, "Le reporter est un habitué.", as_(staff, "agent.voirie"))
    assert not note.is_public and len(recipients()) == before
    reply = services.reply(pothole, "Intervention prévue jeudi.", as_(staff, "agent.voirie"))
    assert reply.is_public
    assert sorted(recipients()[before:]) == ["jeanne@example.org", "voisin@example.org"]


def test_the_reporter_confirms_a_fix_once(pothole, staff):
    transition(pothole, "resolved", as_(staff, "agent.voirie"), text="Rebouché.")
    event = services.confirm_fix(pothole, Actor.reporter(pothole))
    assert pothole.confirmed_at is not None and event.type == "confirmation"
    assert services.confirm_fix(pothole, Actor.reporter(pothole)).id == event.id


def test_a_fix_cannot_be_confirmed_by_others_or_too_late(demo_city, pothole, staff):
    with pytest.raises(NotAllowed):  # not resolved yet
        services.confirm_fix(pothole, Actor.reporter(pothole))
    transition(pothole, "resolved", as_(staff, "agent.voirie"), text="Rebouché.")
    with pytest.raises(NotAllowed):
        services.confirm_fix(pothole, as_(staff, "agent.voirie"))
    with pytest.raises(NotAllowed):
        services.confirm_fix(
            pothole, Actor.reporter(pothole), now=pothole.resolved_at + timedelta(days=31)
        )


def test_a_corrected_category_reroutes_on_request(demo_city, staff):
    report = submit(demo_city, "pothole", at=ILE_SAINT_GERMAIN)
    department(demo_city, "espaces-verts").delivery_method = "email"
    events = services.correct(
        report,
        as_(staff, "agent.voirie"),
        category=category(demo_city, "illegal-dumping"),
        reroute=True,
    )
    assert [e.type for e in events] == ["edit", "transfer"]
    assert report.department.slug == "espaces-verts"
    # Why it moved is the routing decision, said in the reader's language: the department's
    # email (in the city's French) gives it, not an English sentence stored in the event.
    assert events[1].text == ""
    [email] = composed(
        db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.dedupe_key == f"transfer:{events[1].id}")
        ).all()
    )
    assert "Réorienté de Voirie et travaux vers Parcs, jardins et espaces verts" in email.body
    assert "(règle n° " in email.body and "Rerouted" not in email.body


def test_a_corrected_position_outside_the_city_is_refused(demo_city, pothole, staff):
    with pytest.raises(Invalid):
        services.correct(pothole, as_(staff, "agent.voirie"), lat=48.8584, lon=2.2945)
    services.correct(
        pothole, as_(staff, "agent.voirie"), lat=TOWN_HALL[0] + 0.001, lon=TOWN_HALL[1]
    )
    assert pothole.lat == pytest.approx(TOWN_HALL[0] + 0.001)
