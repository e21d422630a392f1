"""Delivery through a real SMTP server and a real webhook receiver, by the worker."""

import json
from datetime import timedelta

import sqlalchemy as sa

from tellcity.core.db import utcnow
from tellcity.extensions import db
from tellcity.notify import services
from tellcity.notify.models import OutboxMessage
from tellcity.notify.worker import deliver_due
from tests.factories import make_city, make_department, make_event, make_subscription
from tests.notify.helpers import SmtpServer, email_department, free_port, reported


def queued_email_report():
    report = reported(email_department())
    [message] = services.notify_new_report(report)
    db.session.commit()
    return report, message


def webhook_department(receiver, secret=None):
    return make_department(
        make_city(),
        delivery_method="webhook",
        webhook_url=receiver.url,
        webhook_secret=receiver.secret if secret is None else secret,
    )


def message(message_id: int) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


def test_a_new_report_reaches_the_department_by_email(app, smtp):
    report, queued = queued_email_report()
    counts = deliver_due()
    assert (counts.sent, counts.retrying, counts.dead) == (1, 0, 0)
    [email] = smtp.messages
    assert email["To"] == "voirie@city.example.org"
    assert email["From"] == "TellCity <no-reply@localhost>"
    assert email["Message-ID"] == f"<{queued.message_id}@tellcity>"
    assert email["Auto-Submitted"] == "auto-generated"
    assert email.get_content_type() == "multipart/alternative"
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    for part in (text, html):
        assert report.reference in part
        assert "alice@example.org" in part
        assert "+33 6 12 34 56 78" in part
    sent = message(queued.id)
    assert sent.status == "sent"
    assert sent.sent_at is not None
    assert sent.subject == email["Subject"] and report.reference in sent.subject
    assert sent.body.splitlines() == text.splitlines()  # the outbox keeps what was sent
    assert deliver_due().claimed == 0  # nothing twice


def test_a_message_queued_with_its_text_written_is_sent_as_it_is(app, smtp):
    """Messages queued before the text was rendered at sending time still go out."""
    report = reported(email_department())
    db.session.add(
        OutboxMessage(
            channel="email",
            recipient="voirie@city.example.org",
            subject=f"Nouveau signalement {report.reference}",
            body="Written when queued.\n",
            report_id=report.id,
        )
    )
    db.session.commit()
    assert deliver_due().sent == 1
    [email] = smtp.messages
    assert email["Subject"] == f"Nouveau signalement {report.reference}"
    assert email.get_content().splitlines() == ["Written when queued."]


def test_followers_get_one_email_each_with_nothing_of_the_reporter(app, smtp):
    report = reported(make_department(make_city()))
    make_subscription(report, email="bob@example.org")
    make_subscription(report, email="carol@example.org")
    services.notify_status_change(report, make_event(report, text="Équipe prévue mardi."))
    db.session.commit()
    assert deliver_due().sent == 3
    for address in ("bob@example.org", "carol@example.org"):
        [email] = smtp.to(address)
        assert email["Cc"] is None and email["Bcc"] is None
        assert "/unsubscribe" in email["List-Unsubscribe"]
        parts = [email.get_body((kind,)).get_content() for kind in ("plain", "html")]
        readable = "\n".join([email["Subject"], *parts])
        for private in ("Alice", "alice@example.org", "+33 6", "bob@", "carol@"):
            assert private not in readable
    assert len(smtp.to("alice@example.org")) == 1


def test_a_mail_server_outage_delays_delivery_without_losing_or_doubling(app):
    port = free_port()  # nothing listens there yet
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    _, queued = queued_email_report()
    start = utcnow()

    counts = deliver_due(now=start)
    assert (counts.sent, counts.retrying) == (0, 1)
    waiting = message(queued.id)
    assert waiting.status == "pending"
    assert waiting.attempts == 1
    assert "SMTP" in waiting.last_error
    assert waiting.next_attempt_at == start + timedelta(seconds=30)

    assert deliver_due(now=start + timedelta(seconds=29)).claimed == 0  # not due yet
    deliver_due(now=start + timedelta(seconds=30))
    assert message(queued.id).attempts == 2
    assert message(queued.id).next_attempt_at == start + timedelta(seconds=90)  # doubled

    server = SmtpServer(port).start()
    try:
        assert deliver_due(now=start + timedelta(seconds=90)).sent == 1
        assert deliver_due(now=start + timedelta(days=1)).claimed == 0
        assert server.message_ids() == [f"<{queued.message_id}@tellcity>"]
    finally:
        server.stop()
    assert message(queued.id).status == "sent"


def test_a_message_is_dead_after_the_last_attempt_and_staff_can_retry_it(app):
    port = free_port()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, OUTBOX_MAX_ATTEMPTS=3)
    _, queued = queued_email_report()
    later = utcnow()
    for _ in range(3):
        later += timedelta(hours=7)
        deliver_due(now=later)
    dead = message(queued.id)
    assert (dead.status, dead.attempts) == ("dead", 3)
    assert deliver_due(now=later + timedelta(days=30)).claimed == 0

    services.retry_dead(queued.id)
    db.session.commit()
    assert (message(queued.id).status, message(queued.id).attempts) == ("pending", 0)
    server = SmtpServer(port).start()
    try:
        assert deliver_due().sent == 1
    finally:
        server.stop()
    assert len(server.messages) == 1


def test_a_message_claimed_by_a_worker_that_died_is_sent_by_another(app, smtp):
    _, queued = queued_email_report()
    crashed = message(queued.id)
    crashed.status = "sending"
    crashed.locked_until = utcnow() + timedelta(minutes=5)
    db.session.commit()
    assert deliver_due().claimed == 0  # its lease is still running

    assert deliver_due(now=utcnow() + timedelta(minutes=6)).sent == 1
    assert smtp.message_ids() == [f"<{queued.message_id}@tellcity>"]


def test_a_stopping_worker_hands_its_batch_back(app, smtp):
    _, queued = queued_email_report()
    counts = deliver_due(should_stop=lambda: True)
    assert (counts.claimed, counts.skipped, counts.sent) == (1, 1, 0)
    assert message(queued.id).status == "pending"
    assert smtp.messages == []
    assert deliver_due().sent == 1


def test_webhooks_are_signed_with_the_departments_secret(app, webhook):
    report = reported(webhook_department(webhook))
    [queued] = services.notify_new_report(report)
    db.session.commit()
    assert deliver_due().sent == 1
    [call] = webhook.calls
    headers = call["headers"]
    assert headers["Content-Type"] == "application/json"
    assert headers["X-TellCity-Message-Id"] == queued.message_id
    assert webhook.verifies(call)
    tampered = call["body"].replace(b"alice@example.org", b"mallory@example.org")
    assert not webhook.verifies(call, body=tampered)
    payload = json.loads(call["body"])
    assert payload["event"] == "report.created"
    assert payload["report"]["reference"] == report.reference
    assert payload["reporter"]["phone"] == "+33 6 12 34 56 78"


def test_a_receiver_that_fails_then_answers_gets_the_message_once(app, webhook):
    report = reported(webhook_department(webhook))
    [queued] = services.notify_new_report(report)
    db.session.commit()
    webhook.answers = [500]

    assert deliver_due().retrying == 1
    failed = message(queued.id)
    assert (failed.status, failed.attempts) == ("pending", 1)
    assert "HTTP 500" in failed.last_error

    assert deliver_due(now=utcnow() + timedelta(minutes=1)).sent == 1
    assert deliver_due(now=utcnow() + timedelta(days=1)).claimed == 0
    ids = [call["headers"]["X-TellCity-Message-Id"] for call in webhook.calls]
    assert ids == [queued.message_id, queued.message_id]  # one failure, one success
    assert message(queued.id).status == "sent"


def test_a_redirect_is_not_a_delivery(app, webhook):
    report = reported(webhook_department(webhook))
    services.notify_new_report(report)
    db.session.commit()
    webhook.answers = [302]
    assert deliver_due().retrying == 1
    assert len(webhook.calls) == 1


def test_an_unreachable_receiver_is_retried(app):
    department = make_department(
        make_city(), delivery_method="webhook", webhook_url=f"http://127.0.0.1:{free_port()}/h"
    )
    [queued] = services.notify_new_report(reported(department))
    db.session.commit()
    assert deliver_due().retrying == 1
    assert "webhook" in message(queued.id).last_error


def test_counts_per_status_and_dead_messages_for_staff(app, smtp):
    from tellcity.notify.queries import dead_messages, status_counts

    queued_email_report()
    _, second = queued_email_report()
    dead = message(second.id)
    dead.status = "dead"
    db.session.commit()
    deliver_due()
    assert status_counts() == {"pending": 0, "sending": 0, "sent": 1, "dead": 1, "dropped": 0}
    assert [m.id for m in dead_messages()] == [second.id]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 2
