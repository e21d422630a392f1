"""Queuing: who is told what, in which language, written in the caller's transaction."""

import html
import json
from datetime import UTC, datetime

import sqlalchemy as sa

from tellcity.extensions import db
from tellcity.notify import services
from tellcity.notify.models import OutboxMessage
from tests.factories import (
    make_city,
    make_department,
    make_event,
    make_subscription,
    make_user,
)
from tests.notify.helpers import composed, email_department, reported


def readable(message: OutboxMessage) -> tuple[str, str]:
    """The text part and the HTML part as a reader sees them (entities decoded)."""
    return message.body, html.unescape(message.html_body)


def outbox() -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_message_is_written_in_the_callers_transaction(app):
    report = reported(email_department())
    db.session.commit()
    services.notify_new_report(report)
    assert len(outbox()) == 1
    db.session.rollback()
    assert outbox() == []


def test_queuing_the_same_notification_twice_queues_it_once(app):
    report = reported(email_department())
    first = services.notify_new_report(report)
    second = services.notify_new_report(report)
    db.session.commit()
    assert len(first) == 1
    assert second == []
    assert len(outbox()) == 1


def test_dashboard_departments_get_no_message(app):
    report = reported(make_department(make_city(), delivery_method="dashboard"))
    assert services.notify_new_report(report) == []
    assert outbox() == []


def test_a_new_report_email_gives_the_department_everything_including_the_contact(app):
    report = reported(email_department())
    [message] = composed(services.notify_new_report(report))
    db.session.commit()
    assert message.channel == "email"
    assert message.recipient == "voirie@city.example.org"
    assert message.report_id == report.id
    assert report.reference in message.subject
    assert "Nid-de-poule" in message.subject
    for text in readable(message):
        assert "Alice Martin" in text
        assert "alice@example.org" in text
        assert "+33 6 12 34 56 78" in text
        assert "12 rue de la Paix" in text
        assert f"http://127.0.0.1:5000/staff/tickets/{report.reference}" in text


def test_html_emails_escape_what_residents_wrote(app):
    report = reported(email_department(), description="<script>alert('x')</script> & co")
    [message] = composed(services.notify_new_report(report))
    assert "<script>" not in message.html_body
    assert "&lt;script&gt;" in message.html_body
    assert "<script>alert('x')</script> & co" in message.body  # plain text is left as written


def test_a_transfer_tells_the_new_department_why(app):
    report = reported(make_department(make_city()))
    report.department = email_department(report.city, name="Propreté")
    event = make_event(report, type="transfer", text="Ce sont des encombrants", is_public=False)
    [message] = composed(services.notify_transfer(report, event))
    assert message.recipient == "voirie@city.example.org"
    assert "Ce sont des encombrants" in message.body
    assert "alice@example.org" in message.body


def test_a_referral_goes_to_the_outside_body_without_the_reporters_contact(app):
    report = reported(make_department(make_city()), lat=48.0512, lon=2.0634)
    body = make_department(
        report.city,
        name="Syndicat des eaux",
        is_external=True,
        delivery_method="email",
        email="contact@eaux.example.org",
    )
    report.referred_to = body
    event = make_event(report, to_value="referred", text="Fuite sur le réseau d'eau")
    [message] = composed(services.notify_referral(report, event))
    assert message.recipient == "contact@eaux.example.org"
    for text in readable(message):
        assert "Fuite sur le réseau d'eau" in text
        assert "Un trou profond devant l'école" in text
        assert "12 rue de la Paix" in text
        assert "48.051200, 2.063400" in text
        assert "Photos" in text
        for private in ("Alice", "alice@example.org", "+33 6", "/staff/"):
            assert private not in text


def test_a_referral_by_webhook_carries_no_reporter_either(app):
    report = reported(make_department(make_city()))
    report.referred_to = make_department(
        report.city, is_external=True, delivery_method="webhook", webhook_url="http://x.test/h"
    )
    event = make_event(report, to_value="referred", text="Réseau d'eau")
    [message] = composed(services.notify_referral(report, event))
    assert message.payload["event"] == "report.referred"
    assert message.payload["reason"] == "Réseau d'eau"
    assert "reporter" not in message.payload
    assert "alice" not in str(message.payload).lower()


def test_a_reopening_tells_the_department_what_the_resident_said(app):
    report = reported(email_department())
    event = make_event(report, type="reopen", text="Le trou est toujours là", is_public=False)
    [message] = composed(services.notify_reopen(report, event))
    assert "Le trou est toujours là" in message.body
    assert "alice@example.org" in message.body


def test_status_changes_reach_the_reporter_and_each_confirmed_follower_once(app):
    report = reported(make_department(make_city()))
    follower = make_user(email="bob@example.org", locale="en")
    make_subscription(report, user=follower)
    make_subscription(report, email="carol@example.org")
    make_subscription(report, email="dan@example.org", is_confirmed=False)  # never clicked
    make_subscription(report, email="alice@example.org")  # the reporter follows too
    event = make_event(report, text="Une équipe passe demain.")
    messages = composed(services.notify_status_change(report, event))
    recipients = sorted(message.recipient for message in messages)
    assert recipients == ["alice@example.org", "bob@example.org", "carol@example.org"]
    assert services.notify_status_change(report, event) == []


def test_followers_never_see_the_reporter_and_can_unsubscribe(app):
    report = reported(make_department(make_city()))
    subscription = make_subscription(report, email="carol@example.org")
    event = make_event(report, text="Une équipe passe demain.")
    messages = {m.recipient: m for m in composed(services.notify_status_change(report, event))}
    follower = messages["carol@example.org"]
    link = f"http://127.0.0.1:5000/subscriptions/{subscription.token}/unsubscribe"
    for text in (*readable(follower), follower.subject, json.dumps(follower.payload)):
        for private in ("Alice", "Martin", "alice@example.org", "+33 6"):
            assert private not in text
    assert link in follower.body
    assert link in follower.html_body
    assert "/track/" not in follower.body  # the reporter's private page is theirs alone
    assert "/track/" in messages["alice@example.org"].body
    assert follower.payload["headers"] == {"List-Unsubscribe": f"<{link}>"}
    assert "Une équipe passe demain." in follower.body
    assert "/subscriptions/" not in messages["alice@example.org"].body


def test_each_follower_reads_in_their_language(app):
    report = reported(make_department(make_city()))
    make_subscription(report, user=make_user(email="bob@example.org", locale="en"))
    event = make_event(report, text="On it.")
    messages = {m.recipient: m for m in composed(services.notify_status_change(report, event))}
    assert "is now: acknowledged" in messages["bob@example.org"].body
    assert "est désormais : pris en compte" in messages["alice@example.org"].body


def test_private_or_empty_events_tell_nobody(app):
    """A status change without a text is told (tests/notify/test_resident_emails.py); an
    internal note, a private status change and an empty reply are not."""
    report = reported(make_department(make_city()))
    make_subscription(report, email="carol@example.org")
    note = make_event(report, type="internal_note", is_public=False, text="Appeler Alice")
    private = make_event(report, is_public=False, text="")
    empty_reply = make_event(report, type="public_reply", to_value=None, text="  ")
    assert services.notify_status_change(report, note) == []
    assert services.notify_status_change(report, private) == []
    assert services.notify_status_change(report, empty_reply) == []


def test_a_reporter_who_stopped_the_emails_gets_none(app):
    report = reported(make_department(make_city()), notify_reporter=False)
    make_subscription(report, email="alice@example.org")  # still no email to that address
    event = make_event(report, text="On it.")
    assert services.notify_status_change(report, event) == []


def test_a_resolved_report_asks_the_reporter_to_confirm_or_reopen(app):
    from tellcity.reports.links import load_reporter_action

    report = reported(make_department(make_city()), locale="en")
    make_subscription(report, email="carol@example.org")
    event = make_event(report, to_value="resolved", text="Filled the hole.")
    messages = {m.recipient: m for m in composed(services.notify_status_change(report, event))}
    reporter = messages["alice@example.org"]
    assert "within 30 days" in reporter.body
    links = [word for word in reporter.body.split() if "?token=" in word]
    actions = {link.split("?")[0].rsplit("/", 1)[1]: link for link in links}
    assert set(actions) == {"confirm", "reopen"}
    for action, link in actions.items():
        assert link.startswith(f"http://127.0.0.1:5000/reports/{report.reference}/{action}")
        assert load_reporter_action(link.split("token=")[1]) == (report.id, action)
    assert "?token=" not in messages["carol@example.org"].body


def test_escalation_tells_each_manager_when_the_ticket_was_due_in_city_time(app):
    city = make_city(timezone="Europe/Paris")
    department = make_department(city)
    managers = [
        make_user(role="manager", department=department, email="chef@city.example.org"),
        make_user(
            role="manager", department=department, email="boss@city.example.org", locale="en"
        ),
    ]
    report = reported(department, due_at=datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    messages = composed(services.notify_escalation(report, managers))
    assert [m.recipient for m in messages] == ["chef@city.example.org", "boss@city.example.org"]
    french, english = messages
    assert "10/03/2026 10:00" in french.body  # 09:00 UTC is 10:00 in Paris in March
    assert "2026-03-10 10:00" in english.body
    assert f"/staff/tickets/{report.reference}" in english.body
    assert services.notify_escalation(report, managers) == []


def test_webhook_departments_get_a_json_document(app):
    department = make_department(
        make_city(), delivery_method="webhook", webhook_url="http://x.test/h", webhook_secret="k"
    )
    report = reported(department)
    [message] = composed(services.notify_new_report(report))
    assert message.channel == "webhook"
    assert message.recipient == "http://x.test/h"
    payload = message.payload
    assert payload["id"] == message.message_id
    assert payload["event"] == "report.created"
    assert payload["department"]["id"] == department.id
    assert payload["report"]["reference"] == report.reference
    assert payload["reporter"]["email"] == "alice@example.org"
