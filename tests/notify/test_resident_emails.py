"""What residents find in their mailbox, through a real SMTP server: the acknowledgement of
what they filed, an email for each step of it (once), ideas called ideas, and a link that
stops the emails."""

import html
import re
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.notify import services
from tellcity.notify.worker import deliver_due
from tellcity.photos.services import process_upload
from tellcity.reports import services as reports
from tellcity.reports.lifecycle import transition
from tellcity.reports.models import Report
from tests.factories import make_subscription
from tests.photos.images import camera_photo
from tests.reports.helpers import TOWN_HALL, department, submit
from tests.staff.helpers import post
from tests.web.helpers import form_tokens, post_form

BASE = "http://127.0.0.1:5000"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
URL = re.compile(r"https?://\S+")


def delivered(smtp, address: str) -> list[dict]:
    """Everything sent so far, then each email `address` got: its subject, its text and its
    HTML as read (entities decoded), its List-Unsubscribe header."""
    db.session.commit()
    while deliver_due().claimed:
        pass
    return [
        {
            "subject": email["Subject"],
            "text": email.get_body(("plain",)).get_content(),
            "html": html.unescape(email.get_body(("html",)).get_content()),
            "unsubscribe": email["List-Unsubscribe"],
        }
        for email in smtp.to(address)
    ]


def readable(email: dict) -> str:
    return "\n".join((email["subject"], email["text"], email["html"]))


def link(text: str, part: str) -> str:
    """The path of the one link in `text` containing `part`."""
    [found] = {url.rstrip(".,)") for url in URL.findall(text) if part in url}
    return found.removeprefix(BASE)


def words(email: dict) -> str:
    """What the email says, its links left out (a public page's address has /reports/ in it)."""
    return URL.sub("", readable(email)).lower()


@pytest.fixture
def agent(staff):
    return Actor.of(staff["agent.voirie"])


@pytest.fixture
def manager(staff):
    return Actor.of(staff["chef.voirie"])


# The acknowledgement


def test_the_reporter_is_told_at_once_what_was_understood(client, demo_city, smtp):
    submit(demo_city, reporter_email="paul@example.org", reporter_name="Paul Voisin")
    report = submit(
        demo_city,
        address="1 place de l'Hôtel de Ville",
        answers={"size": "large"},
        photos=[process_upload(camera_photo())],
        reporter_name="Jeanne Dupont",
        reporter_phone="+33 6 11 22 33 44",
    )
    [email] = delivered(smtp, "jeanne@example.org")
    due = report.due_at.astimezone(ZoneInfo("Europe/Paris")).strftime("%d/%m/%Y %H:%M")
    assert report.reference in email["subject"]
    for part in (email["text"], email["html"]):
        assert report.reference in part
        assert "Nid-de-poule, chaussée abîmée" in part
        assert "1 place de l'Hôtel de Ville" in part
        assert "Taille approximative" in part and "Plus d'un mètre" in part
        assert "Voirie et travaux" in part
        assert due in part
    assert "Photos : 1" in email["text"]
    assert "Taille approximative : Plus d'un mètre" in email["text"]
    page = client.get(link(email["text"], "/track/"))
    assert page.status_code == 200 and report.reference in page.text
    for someone_else in ("paul", "Voisin", "ISS-2026-000001", "/staff/"):
        assert someone_else not in readable(email)


def test_the_acknowledgement_through_the_api_speaks_english_and_gives_the_position(
    client, demo_city, smtp
):
    response = client.post(
        "/api/v1/reports",
        json={
            "category": "pothole",
            "lat": TOWN_HALL[0],
            "lon": TOWN_HALL[1],
            "description": "Hole in the road",
            "email": "zoe@example.org",
        },
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 201
    report = db.session.scalar(sa.select(Report))
    [email] = delivered(smtp, "zoe@example.org")
    due = report.due_at.astimezone(ZoneInfo("Europe/Paris")).strftime("%Y-%m-%d %H:%M")
    assert email["subject"] == f"Your report {report.reference} is filed"
    assert "Category: Pothole, damaged road" in email["text"]
    assert "Position: 48.824500, 2.273500 (the address will follow)" in email["text"]
    assert "Photos: 0" in email["text"]
    assert f"Expected answer by: {due}" in email["text"]
    assert link(email["text"], "/track/") == response.json["tracking_url"].removeprefix(BASE)


def test_a_retried_submission_is_acknowledged_once(client, demo_city, smtp):
    report = {"category": "pothole", "lat": TOWN_HALL[0], "lon": TOWN_HALL[1]}
    report |= {"description": "Trou", "email": "zoe@example.org"}
    headers = {"Idempotency-Key": "phone-42-attempt"}
    first = client.post("/api/v1/reports", json=report, headers=headers)
    again = client.post("/api/v1/reports", json=report, headers=headers)
    assert first.json["reference"] == again.json["reference"]
    [email] = delivered(smtp, "zoe@example.org")
    assert first.json["reference"] in email["subject"]


def test_nobody_is_emailed_for_a_report_without_an_address(demo_city, smtp):
    submit(demo_city, reporter_email=None)
    db.session.commit()
    deliver_due()
    assert [email["To"] for email in smtp.messages] == ["voirie@issy.example.org"]


# Each step, once


def test_each_step_reaches_the_reporter_and_the_followers_once(demo_city, smtp, agent, manager):
    report = submit(demo_city, reporter_name="Jeanne Dupont")
    make_subscription(report, email="bob@example.org")
    make_subscription(report, email="jeanne@example.org")  # the reporter follows too
    transition(report, "acknowledged", agent)
    transition(report, "in_progress", agent)
    transition(report, "resolved", agent, text="Trou rebouché ce matin.")
    transition(report, "acknowledged", manager, text="Le trou s'est rouvert.")

    acknowledgement, *steps = delivered(smtp, "jeanne@example.org")
    assert "bien enregistré" in acknowledgement["subject"]
    assert [step["subject"] for step in steps] == [
        f"Votre signalement {report.reference} : pris en compte",
        f"Votre signalement {report.reference} : en cours",
        f"Votre signalement {report.reference} : résolu",
        f"Votre signalement {report.reference} : rouvert",
    ]
    acknowledged, in_progress, resolved, reopened = (step["text"] for step in steps)
    assert "est désormais : pris en compte." in acknowledged
    assert "par le service compétent, Voirie et travaux," in acknowledged
    assert "Message du service" not in acknowledged  # a change without a text, told all the same
    assert "Il est en cours de traitement" in in_progress
    assert "Le service indique que le problème est réglé." in resolved
    assert "Trou rebouché ce matin." in resolved
    assert f"/reports/{report.reference}/confirm?token=" in resolved
    assert "Il a été rouvert" in reopened and "Le trou s'est rouvert." in reopened

    follower = delivered(smtp, "bob@example.org")
    assert [email["subject"] for email in follower] == [
        step["subject"].replace("Votre signalement", "Signalement suivi") for step in steps
    ]
    for email in follower:
        assert "Le signalement que vous suivez" in email["text"]
        for private in ("Jeanne", "jeanne@", "/track/", "?token="):
            assert private not in readable(email)


@pytest.mark.parametrize(
    ("status", "fields", "said"),
    [
        (
            "not_actionable",
            {"reason": "private_property"},
            "La ville ne peut pas y donner suite : le lieu est une propriété privée.",
        ),
        ("rejected", {"reason": "spam"}, "Il n'a pas été retenu (motif : message indésirable)."),
        # The words of the staff's select (one list of reasons, reports.history.REASON_LABELS).
        (
            "not_actionable",
            {"reason": "already_planned"},
            "La ville ne peut pas y donner suite : des travaux y sont déjà prévus.",
        ),
        ("rejected", {"reason": "other"}, "Il n'a pas été retenu."),  # no reason named
    ],
)
def test_a_closure_says_why_in_plain_words(demo_city, smtp, agent, status, fields, said):
    report = submit(demo_city)
    transition(report, status, agent, **fields)
    _, closed = delivered(smtp, "jeanne@example.org")
    assert said in closed["text"] and said in closed["html"]
    assert fields["reason"] not in readable(closed)  # the code stays in the database


def test_a_transfer_names_the_department_but_not_the_staffs_reason(demo_city, smtp, staff):
    report = submit(demo_city)
    make_subscription(report, email="bob@example.org")
    reason = "PRIVATE l'équipe voirie est débordée"
    manager = Actor.of(staff["chef.voirie"])
    reports.transfer(report, department(demo_city, "proprete"), manager, reason)
    _, moved = delivered(smtp, "jeanne@example.org")
    [followed] = delivered(smtp, "bob@example.org")
    assert moved["subject"] == f"Votre signalement {report.reference} : transmis à Propreté urbaine"
    for email in (moved, followed):
        assert "à un autre service de la ville : Propreté urbaine" in email["text"]
        assert "PRIVATE" not in readable(email) and "débordée" not in readable(email)
    [to_department] = delivered(smtp, "proprete@issy.example.org")
    assert reason in to_department["text"]  # the department, and only it, reads why


def test_a_referral_names_the_outside_body(demo_city, smtp, agent):
    report = submit(demo_city, "bus-shelter")
    body = department(demo_city, "idf-mobilites")
    transition(report, "referred", agent, text="Les abribus relèvent d'IDFM.", referred_to=body)
    _, referred = delivered(smtp, "jeanne@example.org")
    said = "Il relève d'un autre organisme, Île-de-France Mobilités (transports, abribus),"
    assert said in referred["text"]
    assert "Les abribus relèvent d'IDFM." in referred["text"]


def test_a_bulk_acknowledgement_and_a_bulk_duplicate_tell_each_reporter(
    client, login_as, demo_city, smtp
):
    original = submit(demo_city, reporter_email="first@example.org")
    copies = [submit(demo_city, reporter_email=f"copy{n}@example.org") for n in (1, 2)]
    db.session.commit()
    login_as("agent.voirie")
    post(client, "/staff/bulk", action="acknowledge", ticket=[c.reference for c in copies])
    post(
        client,
        "/staff/bulk",
        action="duplicate",
        original=original.reference,
        ticket=[c.reference for c in copies],
    )
    for n, copy in enumerate(copies, start=1):
        _, acknowledged, duplicate = delivered(smtp, f"copy{n}@example.org")
        assert acknowledged["subject"] == f"Votre signalement {copy.reference} : pris en compte"
        assert duplicate["subject"] == f"Votre signalement {copy.reference} : doublon"
        assert f"porte sur le même sujet que {original.reference}" in duplicate["text"]
        original_page = client.get(link(duplicate["text"], f"/reports/{original.reference}"))
        assert original_page.status_code == 200 and original.reference in original_page.text
        assert f'href="{BASE}/reports/{original.reference}"' in duplicate["html"]
    assert len(delivered(smtp, "first@example.org")) == 1  # its acknowledgement alone


def test_the_same_change_notified_twice_is_sent_once(demo_city, smtp, agent):
    report = submit(demo_city)
    make_subscription(report, email="bob@example.org")
    event = transition(report, "acknowledged", agent)
    assert services.notify_status_change(report, event) == []
    db.session.commit()
    services.notify_status_change(report, event)
    assert len(delivered(smtp, "jeanne@example.org")) == 2  # the acknowledgement, the step
    assert len(delivered(smtp, "bob@example.org")) == 1
    assert deliver_due().claimed == 0


def test_the_reporters_own_reopening_tells_the_followers_without_their_words(
    demo_city, smtp, agent
):
    report = submit(demo_city)
    make_subscription(report, email="bob@example.org")
    transition(report, "resolved", agent, text="Trou rebouché.")
    transition(report, "acknowledged", Actor.reporter(report), text="PRIVATE toujours là")
    assert len(delivered(smtp, "jeanne@example.org")) == 2  # not told of their own reopening
    _resolved, reopened = delivered(smtp, "bob@example.org")
    assert "Il a été rouvert" in reopened["text"]
    assert "PRIVATE" not in readable(reopened)


# Unsubscribing


def test_the_reporters_unsubscribe_link_stops_their_emails(client, demo_city, smtp, agent):
    report = submit(demo_city)
    make_subscription(report, email="bob@example.org")
    [acknowledgement] = delivered(smtp, "jeanne@example.org")
    path = link(acknowledgement["text"], "/unsubscribe/")
    assert acknowledgement["unsubscribe"] == f"<{BASE}{path}>"
    assert path.startswith(f"/reports/{report.reference}/unsubscribe/")

    page = client.get(path)
    assert page.status_code == 200 and report.reference in page.text
    db.session.expire_all()
    assert db.session.get(Report, report.id).notify_reporter  # a GET changes nothing
    done = client.post(path, data={"csrf_token": CSRF.search(page.text).group(1)})
    assert done.status_code == 200 and "Vous ne recevrez plus d'emails" in done.text

    db.session.expire_all()
    report = db.session.get(Report, report.id)
    assert not report.notify_reporter
    transition(report, "acknowledged", agent, text="Une équipe passe demain.")
    assert len(delivered(smtp, "jeanne@example.org")) == 1
    assert len(delivered(smtp, "bob@example.org")) == 1  # followers still hear


def test_every_email_to_the_reporter_carries_the_link(demo_city, smtp, agent):
    report = submit(demo_city)
    transition(report, "acknowledged", agent)
    for email in delivered(smtp, "jeanne@example.org"):
        path = link(email["text"], "/unsubscribe/")
        assert path in email["html"] and email["unsubscribe"] == f"<{BASE}{path}>"


def test_a_forged_or_borrowed_unsubscribe_link_is_refused(client, demo_city, smtp):
    mine, other = submit(demo_city), submit(demo_city, reporter_email="paul@example.org")
    [email] = delivered(smtp, "paul@example.org")
    token = link(email["text"], "/unsubscribe/").rsplit("/", 1)[1]
    assert client.get(f"/reports/{mine.reference}/unsubscribe/{token}").status_code == 404
    assert client.get(f"/reports/{other.reference}/unsubscribe/forged").status_code == 404
    tokens = form_tokens(client, "/report")
    response = client.post(
        f"/reports/{mine.reference}/unsubscribe/{token}", data={"csrf_token": tokens["csrf_token"]}
    )
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Report, mine.id).notify_reporter


# Ideas


def test_an_idea_from_the_web_form_is_called_an_idea_in_french(client, demo_city, smtp, staff):
    idea = {"category": "idea-mobility", "description": "Une piste cyclable"}
    response = post_form(client, "/idea", {**idea, "email": "jeanne@example.org"})
    assert response.status_code == 302
    idea = db.session.scalar(sa.select(Report))
    make_subscription(idea, email="bob@example.org")
    desk = Actor.of(staff["agent.accueil"])
    transition(idea, "under_review", desk, text="Nous étudions le tracé.")
    transition(idea, "planned", desk, text="Prévue au budget 2027.")
    emails = delivered(smtp, "jeanne@example.org") + delivered(smtp, "bob@example.org")
    assert len(emails) == 5
    assert "Merci pour votre idée" in emails[0]["text"]
    assert "La ville l'a retenue : sa réalisation est prévue." in emails[2]["text"]
    assert "L'idée que vous suivez" in emails[3]["text"]
    for email in emails:
        assert "idée" in words(email)
        assert "signalement" not in words(email)


def test_an_idea_is_called_an_idea_in_english(demo_city, smtp, staff):
    idea = submit(demo_city, "idea-mobility", at=None, description="A cycle lane", locale="en")
    transition(idea, "under_review", Actor.of(staff["agent.accueil"]), text="Looking at it.")
    acknowledgement, review = delivered(smtp, "jeanne@example.org")
    assert acknowledgement["subject"] == f"Your idea {idea.reference} is filed"
    assert review["subject"] == f"Your idea {idea.reference}: under review"
    for email in (acknowledgement, review):
        assert "idea" in words(email)
        assert not re.search(r"\breports?\b", words(email))
