"""Updates come back (issue 22, item 2): what the department's own Open311 system does with a
forwarded report (a second TellCity instance, whose staff act through its pages; or a
stand-in) reaches our report, through the worker's job, and the resident and the followers by
email, as a staff change here would; each update once, a remote that is down only delays,
a remote without servicerequestupdates is followed by requests/{id}, and the polling is
bounded."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tellcity.core.db import utcnow
from tellcity.extensions import db
from tellcity.notify.worker import deliver_due, run_worker
from tellcity.open311.client.models import Open311Mapping, RemoteRequest
from tellcity.open311.client.updates import FULL_PAGE, follow_forwarded
from tellcity.reports import services as reports
from tellcity.reports.models import Report, ReportEvent
from tests.factories import make_subscription
from tests.reports.helpers import department, submit

RESIDENT = "jeanne@example.org"
FOLLOWER = "bob@example.org"


@pytest.fixture
def voirie(demo_city):
    """Our roads department, delivering by Open311 (its system's address set per test)."""
    roads = department(demo_city, "voirie")
    roads.delivery_method = "open311"
    roads.open311_endpoint = "http://127.0.0.1:9/open311/v2"
    db.session.commit()
    return roads


def connect(roads, endpoint: str, api_key: str = "", jurisdiction: str = "") -> None:
    roads.open311_endpoint = endpoint
    roads.open311_api_key = api_key or None
    roads.open311_jurisdiction = jurisdiction or None
    db.session.commit()


def filed(city) -> Report:
    """A resident's pothole report, which one more person follows."""
    report = submit(city, reporter_email=RESIDENT)
    make_subscription(report, email=FOLLOWER)
    db.session.commit()
    return report


def forwarded(
    report: Report, service_request_id: str, sent_ago=timedelta(0), to=None
) -> RemoteRequest:
    """The report as known to its department's system (or `to`'s) under `service_request_id`."""
    to_id = to.id if to is not None else report.department_id
    forward = db.session.scalar(
        sa.select(RemoteRequest).where(
            RemoteRequest.report_id == report.id, RemoteRequest.department_id == to_id
        )
    )
    if forward is None:
        forward = RemoteRequest(report_id=report.id, department_id=to_id)
        db.session.add(forward)
    forward.state = "open"
    forward.service_request_id = service_request_id
    forward.sent_at = forward.created_at = utcnow() - sent_ago
    forward.next_sync_at = None
    db.session.commit()
    return forward


def sent_to(remote, report: Report) -> RemoteRequest:
    """`report` forwarded to the remote TellCity by our worker (its category mapped to the
    remote's own "pothole"), and known there by its id."""
    db.session.add(
        Open311Mapping(
            department_id=report.department_id,
            category_id=report.category_id,
            service_code="pothole",
        )
    )
    db.session.commit()
    while deliver_due().claimed:
        pass
    db.session.expire_all()
    forward = db.session.scalar(
        sa.select(RemoteRequest).where(RemoteRequest.report_id == report.id)
    )
    assert forward.state == "open", forward.last_error
    assert remote.report(forward.service_request_id).description == report.description
    return forward


def worker_runs(app, later=timedelta(0)) -> None:
    """The worker's open311-updates job, once (`later`: as if that much later), then its
    deliveries."""
    if later:
        with app.app_context():
            follow_forwarded(now=utcnow() + later)
            db.session.commit()
    else:
        run_worker(app, once=True, roles=["open311-updates"])
    db.session.expire_all()


def due(forward: RemoteRequest) -> None:
    """Time passes until `forward` is due again (the remote's clock is the real one)."""
    db.session.execute(
        sa.update(RemoteRequest).where(RemoteRequest.id == forward.id).values(next_sync_at=utcnow())
    )
    db.session.commit()


def emails(smtp, address: str) -> list[tuple[str, str]]:
    """(subject, text) of each email `address` got, once everything queued is sent."""
    while deliver_due().claimed:
        pass
    return [
        (message["Subject"], message.get_body(("plain",)).get_content())
        for message in smtp.to(address)
    ]


def history(report: Report) -> list[tuple]:
    """The report's public steps after its filing: (type, new status, text, who)."""
    db.session.expire_all()
    events = db.session.scalars(
        sa.select(ReportEvent)
        .where(
            ReportEvent.report_id == report.id, ReportEvent.is_public, ReportEvent.type != "created"
        )
        .order_by(ReportEvent.id)
    )
    return [(e.type, e.to_value, e.text, e.actor_label) for e in events]


def test_the_departments_staff_work_there_and_the_resident_hears_of_it_here(
    app, demo_city, voirie, remote, smtp
):
    connect(voirie, remote.base_url, remote.api_key, remote.jurisdiction)
    report = filed(demo_city)
    forward = sent_to(remote, report)
    there = forward.service_request_id

    remote.set_status(there, "acknowledged")
    remote.reply(there, "Une équipe passe jeudi.")
    remote.set_status(there, "resolved", "Trou rebouché ce matin.")
    worker_runs(app)

    name = "Voirie et travaux"
    assert history(report) == [
        ("status_change", "acknowledged", "", name),
        ("public_reply", None, "Une équipe passe jeudi.", name),
        ("status_change", "resolved", "Trou rebouché ce matin.", name),
    ]
    forward = db.session.get(RemoteRequest, forward.id)
    assert (forward.state, forward.remote_status, forward.last_error) == ("closed", "closed", None)
    assert forward.last_sync_at is not None and forward.next_sync_at > forward.last_sync_at

    ref = report.reference
    steps = emails(smtp, RESIDENT)[1:]  # after the acknowledgement of the filing
    assert [subject for subject, _text in steps] == [
        f"Votre signalement {ref} : pris en compte",
        f"Votre signalement {ref} : nouvelle réponse du service",
        f"Votre signalement {ref} : résolu",
    ]
    assert "Une équipe passe jeudi." in steps[1][1]
    assert "Trou rebouché ce matin." in steps[2][1]
    assert f"/reports/{ref}/confirm?token=" in steps[2][1]
    followed = [subject for subject, _text in emails(smtp, FOLLOWER)]
    assert followed == [s.replace("Votre signalement", "Signalement suivi") for s, _t in steps]

    # The job runs again, later: nothing new there, nothing twice here.
    due(forward)
    worker_runs(app)
    assert len(history(report)) == 3
    assert len(emails(smtp, RESIDENT)) == 4 and len(emails(smtp, FOLLOWER)) == 3

    # Reopened there: reopened here, with their words; their next step follows.
    remote.set_status(there, "acknowledged", "Le trou s'est rouvert.")
    remote.set_status(there, "in_progress")
    due(forward)
    worker_runs(app)
    assert history(report)[3:] == [
        ("reopen", "acknowledged", "Le trou s'est rouvert.", name),
        ("status_change", "in_progress", "", name),
    ]
    assert db.session.get(Report, report.id).status == "in_progress"
    assert [s for s, _t in emails(smtp, RESIDENT)[4:]] == [
        f"Votre signalement {ref} : rouvert",
        f"Votre signalement {ref} : en cours",
    ]


def remote_update(update_id, status, text="", extended="", at="2026-12-05T10:00:00+01:00"):
    return {
        "update_id": str(update_id),
        "service_request_id": "SR-1",
        "status": status,
        "updated_datetime": at,
        "description": text,
        "extended_status": extended,
    }


def test_a_remote_that_is_down_only_delays(app, demo_city, voirie, stand_in, smtp):
    app.config["OPEN311_TIMEOUT"] = 0.5
    connect(voirie, stand_in.base_url, "key-1", "issy")
    report = filed(demo_city)
    forward = forwarded(report, "SR-1")

    stand_in.hanging = True
    worker_runs(app)  # no exception: the worker goes on
    stand_in.hanging = False
    forward = db.session.get(RemoteRequest, forward.id)
    assert "timed out" in forward.last_error.lower()
    assert forward.last_sync_at is None
    assert forward.next_sync_at - utcnow() > timedelta(minutes=4)
    worker_runs(app)
    assert not stand_in.asked("GET", "servicerequestupdates.json")[1:]  # not due yet

    stand_in.failing = 500
    worker_runs(app, later=timedelta(minutes=6))
    forward = db.session.get(RemoteRequest, forward.id)
    assert forward.last_error.startswith("HTTP 500")
    stand_in.failing = None

    # What happened there meanwhile arrives once the remote answers again: the window of
    # updates still starts before the forward.
    stand_in.serve_updates(
        [remote_update(7, "open", "Pris en charge.", "acknowledged"), remote_update(8, "closed")]
    )
    worker_runs(app, later=timedelta(minutes=12))
    forward = db.session.get(RemoteRequest, forward.id)
    assert forward.last_error is None and forward.state == "closed"
    asked = stand_in.asked("GET", "servicerequestupdates.json")
    assert {call.query["start_date"][0] for call in asked} == {asked[0].query["start_date"][0]}
    assert asked[-1].query["jurisdiction_id"] == ["issy"] and asked[-1].query["api_key"] == [
        "key-1"
    ]
    name = "Voirie et travaux"
    assert history(report) == [
        ("status_change", "acknowledged", "Pris en charge.", name),
        (
            "status_change",
            "resolved",
            f"{name} a clos ce signalement dans son propre système.",
            name,
        ),
    ]
    assert [s for s, _t in emails(smtp, RESIDENT)[1:]] == [
        f"Votre signalement {report.reference} : pris en compte",
        f"Votre signalement {report.reference} : résolu",
    ]


def test_an_answer_we_could_not_store_is_an_error_not_a_crash(app, demo_city, voirie, stand_in):
    """A NUL in the remote's words (PostgreSQL stores no NUL in text) is refused like any
    unreadable answer: nothing applied, the error on the forward, the next answer taken."""
    connect(voirie, stand_in.base_url)
    report = filed(demo_city)
    forward = forwarded(report, "SR-1")
    stand_in.serve_updates([remote_update(7, "open", "Pris en charge.\u0000", "acknowledged")])
    worker_runs(app)
    forward = db.session.get(RemoteRequest, forward.id)
    assert forward.last_error.startswith("not JSON we can read") and history(report) == []

    stand_in.serve_updates([remote_update(7, "open", "Pris en charge.", "acknowledged")])
    worker_runs(app, later=timedelta(minutes=6))
    assert history(report) == [
        ("status_change", "acknowledged", "Pris en charge.", "Voirie et travaux")
    ]


def test_a_remote_without_updates_is_followed_by_its_requests(app, demo_city, voirie, stand_in):
    connect(voirie, stand_in.base_url)
    report = filed(demo_city)
    forward = forwarded(report, "SR-1")
    request = {"service_request_id": "SR-1", "status": "open", "status_notes": None}
    stand_in.serve_request("SR-1", {**request, "updated_datetime": "2026-12-05T10:00:00+01:00"})
    worker_runs(app)
    assert history(report) == []
    assert db.session.get(RemoteRequest, forward.id).remote_status == "open"

    closed = {"status": "closed", "status_notes": "Réparé le 6 décembre."}
    stand_in.serve_request(
        "SR-1", {**request, **closed, "updated_datetime": "2026-12-06T09:00:00+01:00"}
    )
    for hours in (1, 2):  # twice: applied once
        worker_runs(app, later=timedelta(hours=hours))
    assert history(report) == [
        ("status_change", "resolved", "Réparé le 6 décembre.", "Voirie et travaux")
    ]
    assert len(stand_in.asked("GET", "servicerequestupdates.json")) == 1  # asked once, 404
    assert len(stand_in.asked("GET", "requests/SR-1.json")) == 3
    assert db.session.get(type(voirie), voirie.id).open311_offers_updates is False


def test_a_refusal_there_closes_without_a_fix_here(app, demo_city, voirie, stand_in):
    connect(voirie, stand_in.base_url)
    report = filed(demo_city)
    forwarded(report, "SR-1")
    words = "Cette voie appartient au département."
    stand_in.serve_updates([remote_update(1, "closed", words, "NOT_COUNCILS_RESPONSIBILITY")])
    worker_runs(app)
    assert history(report) == [("status_change", "not_actionable", words, "Voirie et travaux")]
    assert db.session.get(Report, report.id).close_reason == "other"


def test_polling_is_bounded_by_the_limit_and_the_age_of_the_forward(
    app, demo_city, voirie, stand_in
):
    connect(voirie, stand_in.base_url)
    stand_in.serve_updates([])
    ages = [timedelta(hours=2), timedelta(days=3), timedelta(days=10)]
    forwards = [forwarded(filed(demo_city), f"SR-{n}", sent_ago=age) for n, age in enumerate(ages)]
    app.config["OPEN311_SYNC_BATCH"] = 2
    now = utcnow()
    assert follow_forwarded(now=now) == 2
    assert follow_forwarded(now=now) == 1
    assert follow_forwarded(now=now) == 0
    db.session.commit()
    db.session.expire_all()
    waits = [db.session.get(RemoteRequest, f.id).next_sync_at - now for f in forwards]
    assert waits == [timedelta(minutes=5), timedelta(hours=1), timedelta(days=1)]
    assert follow_forwarded(now=now + timedelta(minutes=5)) == 1


def test_reports_gone_elsewhere_or_closed_long_ago_are_no_longer_followed(
    app, demo_city, voirie, stand_in, staff
):
    from tellcity.core.permissions import Actor

    connect(voirie, stand_in.base_url)
    stand_in.serve_updates([])
    moved, closed = filed(demo_city), filed(demo_city)
    moved_forward, closed_forward = forwarded(moved, "SR-1"), forwarded(closed, "SR-2")
    reports.transfer(moved, department(demo_city, "proprete"), Actor.of(staff["admin"]), "Tags")
    closed_forward.state = "closed"
    closed_forward.remote_updated_at = utcnow() - timedelta(days=31)
    db.session.commit()
    assert follow_forwarded() == 2
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(RemoteRequest, moved_forward.id).state == "stopped"
    assert db.session.get(RemoteRequest, closed_forward.id).state == "stopped"
    assert follow_forwarded(now=utcnow() + timedelta(days=2)) == 0


def test_two_workers_at_once_apply_each_update_once(app, demo_city, voirie, stand_in, smtp):
    connect(voirie, stand_in.base_url)
    report = filed(demo_city)
    forwarded(report, "SR-1")
    stand_in.serve(
        "GET",
        "servicerequestupdates.json",
        [remote_update(1, "open", "Une équipe passe jeudi.")],
        delay=0.3,
    )
    asked = []

    def worker():
        with app.app_context():
            asked.append(follow_forwarded())
            db.session.commit()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(asked) == [0, 1]
    assert history(report) == [
        ("public_reply", None, "Une équipe passe jeudi.", "Voirie et travaux")
    ]
    assert len(emails(smtp, RESIDENT)) == 2  # the filing's acknowledgement, the reply


def test_a_full_page_of_updates_is_taken_as_synced_up_to_its_last(app, demo_city, voirie, stand_in):
    connect(voirie, stand_in.base_url)
    forward = forwarded(filed(demo_city), "SR-1")
    start = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    page = [
        {
            **remote_update(n, "open", at=(start + timedelta(seconds=n)).isoformat()),
            "service_request_id": f"SR-{n + 2}",
        }
        for n in range(FULL_PAGE)
    ]
    stand_in.serve_updates(page)
    worker_runs(app)
    last = start + timedelta(seconds=FULL_PAGE - 1)
    assert db.session.get(RemoteRequest, forward.id).last_sync_at == last
    worker_runs(app, later=timedelta(minutes=6))
    second = stand_in.asked("GET", "servicerequestupdates.json")[-1]
    assert datetime.fromisoformat(second.query["start_date"][0]) == last - timedelta(minutes=10)


def test_an_idea_done_there_is_planned_then_done_here(app, demo_city, stand_in):
    idea = submit(demo_city, code="idea-mobility", reporter_email=RESIDENT)
    body = idea.department
    body.delivery_method = "open311"
    connect(body, stand_in.base_url)
    forwarded(idea, "SR-1")
    stand_in.serve_updates([remote_update(1, "closed", "Piste cyclable ouverte.")])
    worker_runs(app)
    assert [(kind, status, text) for kind, status, text, _who in history(idea)] == [
        ("status_change", "planned", "Piste cyclable ouverte."),
        ("status_change", "done", "Piste cyclable ouverte."),
    ]


def test_a_worker_of_this_job_alone_follows_the_forwards(app, cli, demo_city, voirie, stand_in):
    connect(voirie, stand_in.base_url)
    report = filed(demo_city)
    forwarded(report, "SR-1")
    stand_in.serve_updates([remote_update(1, "open", "Une équipe passe jeudi.")])
    result = cli.invoke(args=["worker", "--once", "--jobs", "open311-updates"])
    assert result.exit_code == 0, result.output
    assert history(report) == [
        ("public_reply", None, "Une équipe passe jeudi.", "Voirie et travaux")
    ]


def test_an_outside_bodys_words_on_a_referred_report_are_replies(
    app, demo_city, stand_in, staff, smtp
):
    from tellcity.core.permissions import Actor
    from tellcity.reports.lifecycle import transition

    body = department(demo_city, "idf-mobilites")
    body.delivery_method = "open311"
    connect(body, stand_in.base_url)
    report = filed(demo_city)
    transition(report, "referred", Actor.of(staff["agent.voirie"]), referred_to=body)
    db.session.commit()
    forward = forwarded(report, "SR-1", to=body)
    words = "Abribus réparé."
    stand_in.serve_updates([remote_update(1, "closed", words, "fixed")])
    worker_runs(app)
    assert db.session.get(Report, report.id).status == "referred"
    assert history(report)[-1] == ("public_reply", None, words, body.name)
    assert db.session.get(RemoteRequest, forward.id).state == "closed"
    assert any(words in text for _subject, text in emails(smtp, RESIDENT))


def test_another_system_is_asked_again_whether_it_offers_updates(demo_city, voirie, staff):
    from tellcity.core.permissions import Actor
    from tellcity.departments.services import DEPARTMENT_FIELDS, update_department

    voirie.open311_offers_updates = False
    fields = {field: getattr(voirie, field) for field in DEPARTMENT_FIELDS}
    update_department(voirie, fields, actor=Actor.of(staff["admin"]))
    assert voirie.open311_offers_updates is False  # the same system
    fields["open311_endpoint"] = "https://works.example.org/open311/v2"
    update_department(voirie, fields, actor=Actor.of(staff["admin"]))
    assert voirie.open311_offers_updates is None


def test_a_request_without_updated_datetime_is_followed_by_its_status(
    app, demo_city, voirie, stand_in
):
    connect(voirie, stand_in.base_url)
    report = filed(demo_city)
    forwarded(report, "SR-1")
    request = {"service_request_id": "SR-1", "requested_datetime": "2026-12-05T10:00:00+01:00"}
    stand_in.serve_request("SR-1", {**request, "status": "open"})
    worker_runs(app)
    stand_in.serve_request("SR-1", {**request, "status": "closed", "status_notes": "Réparé."})
    for hours in (1, 2):
        worker_runs(app, later=timedelta(hours=hours))
    assert history(report) == [("status_change", "resolved", "Réparé.", "Voirie et travaux")]
