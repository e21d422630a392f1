"""Every status move, allowed and forbidden, for every kind of actor; what each move requires
and records."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tellcity.accounts.services import create_user
from tellcity.core.db import utcnow
from tellcity.core.errors import Invalid, NotAllowed
from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.notify.models import OutboxMessage
from tellcity.reports import services
from tellcity.reports.lifecycle import transition
from tellcity.reports.states import Status, open311_status
from tellcity.sla.calendar import BusinessCalendar
from tellcity.sla.queries import sla_state
from tellcity.sla.services import escalate_overdue
from tests.notify.helpers import composed
from tests.reports.helpers import department, submit

CLOSINGS = {"duplicate", "referred", "not_actionable", "rejected"}
PROBLEM_MOVES = {
    "new": {"acknowledged", "in_progress", "resolved"} | CLOSINGS,
    "acknowledged": {"in_progress", "resolved"} | CLOSINGS,
    "in_progress": {"acknowledged", "resolved"} | CLOSINGS,
    "resolved": {"acknowledged"},
    "duplicate": {"acknowledged"},
    "referred": {"acknowledged"},
    "not_actionable": {"acknowledged"},
    "rejected": {"acknowledged"},
}
SUGGESTION_MOVES = {
    "new": {"under_review", "planned", "declined", "duplicate", "rejected"},
    "under_review": {"planned", "declined", "duplicate", "rejected"},
    "planned": {"done", "declined", "duplicate", "rejected"},
    "declined": {"under_review"},
    "done": {"under_review"},
    "duplicate": {"under_review"},
    "rejected": {"under_review"},
}
ALL_STATUSES = [str(status) for status in Status]
#: Who may make a forward (or closing) move, and who may reopen a closed report.
HANDLERS = {"agent_same", "manager_same", "admin"}
REOPENERS = {"manager_same", "admin"}
ACTORS = [
    "agent_same",
    "manager_same",
    "agent_other",
    "manager_other",
    "mayor",
    "admin",
    "resident",
    "reporter",
    "system",
]


def expected_allowed(moves: dict, from_status: str, to_status: str, who: str) -> bool:
    if to_status not in moves[from_status]:
        return False
    if from_status in ("new", "acknowledged", "in_progress", "under_review", "planned"):
        return who in HANDLERS
    return who in REOPENERS or (who == "reporter" and from_status == "resolved")


def make_actor(who: str, staff: dict, report) -> Actor:
    same = report.department.slug
    users = {
        "agent_same": _member(staff, same, "agent"),
        "manager_same": _member(staff, same, "manager"),
        "agent_other": staff["agent.proprete"],
        "manager_other": staff["chef.proprete"],
        "mayor": staff["cabinet"],
        "admin": staff["admin"],
        "resident": staff["resident"],
    }
    if who == "reporter":
        return Actor.reporter(report)
    if who == "system":
        return Actor.system()
    return Actor.of(users[who])


def _member(staff: dict, slug: str, role: str):
    prefix = "agent" if role == "agent" else "chef"
    key = f"{prefix}.{slug}"
    if key not in staff:  # the demo has no manager at the front desk: add one
        department = staff["agent.accueil"].department
        staff[key], _ = create_user(f"{key}@issy.example.org", role=role, department=department)
    return staff[key]


def put_in(report, status: str, original) -> None:
    """Force a report into a status, with what that status implies."""
    report.status = status
    report.duplicate_of_id = original.id if status == "duplicate" else None
    report.resolved_at = utcnow() - timedelta(days=1) if status in ("resolved", "done") else None
    db.session.flush()


def arguments(to_status: str, original, external) -> dict:
    return {
        "text": "Le nécessaire a été fait.",
        "reason": {"not_actionable": "private_property", "rejected": "spam"}.get(to_status),
        "duplicate_of": original,
        "referred_to": external,
    }


@pytest.mark.parametrize("who", ACTORS)
@pytest.mark.parametrize(
    ("code", "moves"), [("pothole", PROBLEM_MOVES), ("idea-mobility", SUGGESTION_MOVES)]
)
def test_transition_matrix(demo_city, staff, who, code, moves):
    report = submit(demo_city, code)
    original = submit(demo_city, code)
    external = department(demo_city, "idf-mobilites")
    actor = make_actor(who, staff, report)
    wrong = []
    for from_status in moves:
        for to_status in ALL_STATUSES:
            savepoint = db.session.begin_nested()
            put_in(report, from_status, original)
            try:
                transition(report, to_status, actor, **arguments(to_status, original, external))
                allowed = True
            except NotAllowed:
                allowed = False
            savepoint.rollback()
            if allowed != expected_allowed(moves, from_status, to_status, who):
                wrong.append(f"{from_status} → {to_status}: {'allowed' if allowed else 'refused'}")
    assert wrong == []


@pytest.fixture
def pothole(demo_city):
    return submit(demo_city, "pothole")


@pytest.fixture
def agent(staff):
    return Actor.of(staff["agent.voirie"])


@pytest.mark.parametrize(
    ("to_status", "missing", "field"),
    [
        ("resolved", {"text": ""}, "text"),
        ("duplicate", {"duplicate_of": None}, "duplicate_of"),
        ("referred", {"referred_to": None}, "referred_to"),
        ("not_actionable", {"reason": None}, "reason"),
        ("rejected", {"reason": "because"}, "reason"),
    ],
)
def test_each_closing_says_what_it_needs(demo_city, pothole, agent, to_status, missing, field):
    args = arguments(to_status, submit(demo_city), department(demo_city, "idf-mobilites"))
    with pytest.raises(Invalid) as refused:
        transition(pothole, to_status, agent, **{**args, **missing})
    assert refused.value.field == field
    assert pothole.status == "new"


def test_referral_needs_an_external_body_not_a_department(demo_city, pothole, agent):
    with pytest.raises(Invalid):
        transition(pothole, "referred", agent, referred_to=department(demo_city, "proprete"))


def test_a_duplicate_points_at_the_original_not_at_another_duplicate(demo_city, pothole, agent):
    original, copy = submit(demo_city), submit(demo_city)
    transition(copy, "duplicate", agent, duplicate_of=original)
    with pytest.raises(Invalid, match="est lui-même un doublon"):
        transition(pothole, "duplicate", agent, duplicate_of=copy)
    transition(pothole, "duplicate", agent, duplicate_of=original)
    assert pothole.duplicate_of_id == original.id


def test_timestamps_follow_the_lifecycle(pothole, agent, staff):
    assert pothole.acknowledged_at is None
    transition(pothole, "acknowledged", agent)
    acknowledged_at = pothole.acknowledged_at
    assert acknowledged_at is not None and open311_status(pothole.status) == "open"
    transition(pothole, "in_progress", agent)
    assert pothole.acknowledged_at == acknowledged_at
    transition(pothole, "resolved", agent, text="Trou rebouché ce matin.")
    assert pothole.resolved_at is not None and pothole.closed_at is not None
    assert open311_status(pothole.status) == "closed"
    transition(pothole, "acknowledged", Actor.of(staff["chef.voirie"]))
    assert pothole.resolved_at is None and pothole.closed_at is None


def test_each_move_writes_one_public_event_with_who_and_what(pothole, agent, staff):
    event = transition(
        pothole,
        "not_actionable",
        agent,
        reason="private_property",
        text="Cette voie est privée : adressez-vous au syndic.",
    )
    assert (event.type, event.from_value, event.to_value) == (
        "status_change",
        "new",
        "not_actionable",
    )
    assert event.actor_id == staff["agent.voirie"].id and event.is_public
    assert event.data == {"reason": "private_property"}
    assert pothole.close_reason == "private_property"
    assert [e.type for e in pothole.events] == ["created", "status_change"]


def outbox_to(address: str) -> list[OutboxMessage]:
    return composed(
        db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.recipient == address)).all()
    )


def test_the_reporter_hears_of_a_resolution_and_is_asked_to_confirm(pothole, agent):
    transition(pothole, "resolved", agent, text="Trou rebouché ce matin.")
    [message] = outbox_to("jeanne@example.org")[1:]  # after the acknowledgement of the report
    assert "Trou rebouché ce matin." in message.body
    assert f"/reports/{pothole.reference}/confirm?token=" in message.body
    assert f"/reports/{pothole.reference}/reopen?token=" in message.body


def test_a_status_change_without_public_text_still_tells_the_reporter(pothole, agent):
    transition(pothole, "acknowledged", agent)
    [message] = outbox_to("jeanne@example.org")[1:]  # after the acknowledgement of the report
    assert "est désormais : pris en compte." in message.body
    assert "Message du service" not in message.body


def test_the_reporter_can_reopen_within_30_days_and_the_department_hears(pothole, agent):
    transition(pothole, "resolved", agent, text="Trou rebouché.")
    event = transition(
        pothole, "acknowledged", Actor.reporter(pothole), text="Le trou est revenu après la pluie."
    )
    assert pothole.status == "acknowledged" and pothole.department.slug == "voirie"
    assert event.type == "reopen" and not event.is_public
    [message] = outbox_to("voirie@issy.example.org")[-1:]
    assert "Le trou est revenu après la pluie." in message.body


def test_the_reporter_cannot_reopen_after_30_days(pothole, agent):
    transition(pothole, "resolved", agent, text="Trou rebouché.")
    later = pothole.resolved_at + timedelta(days=31)
    with pytest.raises(NotAllowed) as refused:
        transition(pothole, "acknowledged", Actor.reporter(pothole), text="Revenu", now=later)
    assert refused.value.code == "reopen_expired"


def test_the_reporter_of_another_report_cannot_reopen_this_one(demo_city, pothole, agent):
    transition(pothole, "resolved", agent, text="Trou rebouché.")
    with pytest.raises(NotAllowed):
        transition(pothole, "acknowledged", Actor.reporter(submit(demo_city)), text="Revenu")


def test_unknown_status_is_invalid(pothole, agent):
    with pytest.raises(Invalid):
        transition(pothole, "vanished", agent)


MONDAY_9AM_PARIS = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def counted_from(report, start: datetime) -> datetime:
    """When the report's category's time runs out if counted from `start`, in its city's
    business hours (Monday to Friday, French public holidays off, in the demo)."""
    calendar = BusinessCalendar.for_city(report.city)
    return calendar.add_business_hours(start, report.category.sla_hours)


@pytest.fixture
def late_pothole(demo_city, agent):
    """A pothole escalated once overdue, then resolved a week late."""
    report = submit(demo_city, "pothole", now=MONDAY_9AM_PARIS)
    assert escalate_overdue(now=report.due_at + timedelta(minutes=1)) == 1
    transition(report, "resolved", agent, text="Rebouché.", now=report.due_at + timedelta(days=7))
    return report


def test_a_report_reopened_by_its_reporter_gets_a_new_deadline_from_its_reopening(late_pothole):
    old_due_at = late_pothole.due_at
    reopened_at = late_pothole.resolved_at + timedelta(days=3)
    reporter = Actor.reporter(late_pothole)
    transition(late_pothole, "acknowledged", reporter, text="Revenu.", now=reopened_at)
    assert late_pothole.due_at == counted_from(late_pothole, reopened_at)
    assert late_pothole.due_at > reopened_at > old_due_at
    assert late_pothole.at_risk_at < late_pothole.due_at
    assert sla_state(late_pothole, reopened_at) == "on_time"


def test_a_reopened_report_escalates_again_once_its_new_deadline_passes(late_pothole, agent):
    reopened_at = late_pothole.resolved_at + timedelta(days=3)
    transition(
        late_pothole, "acknowledged", Actor.reporter(late_pothole), text="Revenu.", now=reopened_at
    )
    assert late_pothole.escalated_at is None
    assert escalate_overdue(now=reopened_at + timedelta(minutes=1)) == 0
    assert escalate_overdue(now=late_pothole.due_at + timedelta(minutes=1)) == 1
    escalations = [e for e in late_pothole.events if e.type == "escalation"]
    assert len(escalations) == 2


def test_a_report_reopened_by_the_staff_gets_a_new_deadline_too(demo_city, staff, agent):
    report = submit(demo_city, "pothole", now=MONDAY_9AM_PARIS)
    closed_at = report.due_at + timedelta(days=20)
    transition(report, "not_actionable", agent, reason="private_property", now=closed_at)
    reopened_at = closed_at + timedelta(days=40)
    manager = Actor.of(staff["chef.voirie"])
    transition(report, "acknowledged", manager, text="Finalement, c'est à nous.", now=reopened_at)
    assert report.due_at == counted_from(report, reopened_at) and report.due_at > reopened_at


def test_a_reporter_who_confirmed_the_fix_cannot_reopen_it(pothole, agent):
    transition(pothole, "resolved", agent, text="Trou rebouché.")
    reporter = Actor.reporter(pothole)
    services.confirm_fix(pothole, reporter)
    with pytest.raises(NotAllowed) as refused:
        transition(pothole, "acknowledged", reporter, text="Revenu")
    assert refused.value.code == "already_confirmed"
