"""The worker: several at once, the command, periodic jobs, stopping cleanly."""

import os
import signal
import subprocess
import sys
import threading
import time

import sqlalchemy as sa
from flask import Flask

from tellcity import create_app
from tellcity.extensions import db
from tellcity.notify import services, worker
from tellcity.notify.models import OutboxMessage
from tellcity.notify.queries import status_counts
from tellcity.notify.worker import DeliveryCounts, deliver_due, run_worker
from tests.notify.helpers import email_department, reported


def queue_plain_emails(count: int) -> None:
    for n in range(count):
        db.session.add(
            OutboxMessage(channel="email", recipient=f"r{n}@example.org", subject=f"n{n}", body="")
        )
    db.session.commit()


def worker_app(app, smtp, instance) -> Flask:
    """Another process's app: its own engine and sessions on the same database."""
    return create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": app.config["SECRET_KEY"],
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp.port,
        }
    )


def test_two_workers_at_once_deliver_each_message_exactly_once(app, smtp, tmp_path):
    """PostgreSQL's SKIP LOCKED claims, and SQLite's serialised ones, alike."""
    queue_plain_emails(200)
    ready = threading.Barrier(2)
    results: dict[str, DeliveryCounts] = {}
    errors: list[BaseException] = []

    # Made here, one after the other: the threads are there to deliver at once. (Building two
    # apps at once can fail in Python 3.11.7 itself: werkzeug compiles each URL rule with
    # ast.parse, whose recursion check is not safe across threads.)
    apps = {name: worker_app(app, smtp, tmp_path / name) for name in ("a", "b")}

    def work(name: str) -> None:
        other = apps[name]
        try:
            with other.app_context():
                ready.wait(timeout=60)
                total = DeliveryCounts()
                while (counts := deliver_due(batch=5)).claimed:
                    total.add(counts)
                results[name] = total
                db.engine.dispose()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert results["a"].sent + results["b"].sent == 200
    assert results["a"].sent > 0 and results["b"].sent > 0  # both did take part
    received = smtp.message_ids()
    assert len(received) == len(set(received)) == 200
    db.session.expire_all()
    ids = db.session.scalars(sa.select(OutboxMessage.message_id))
    assert set(received) == {f"<{message_id}@tellcity>" for message_id in ids}
    assert status_counts()["sent"] == 200


def test_the_worker_command_delivers_what_is_due_and_exits(app, cli, smtp):
    report = reported(email_department())
    [queued] = services.notify_new_report(report)
    db.session.commit()
    result = cli.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "1 sent, 0 to retry, 0 dead" in result.output
    assert smtp.message_ids() == [f"<{queued.message_id}@tellcity>"]


def test_the_worker_drains_more_than_one_batch(app, cli, smtp):
    queue_plain_emails(7)
    result = cli.invoke(args=["worker", "--once", "--batch", "3"])
    assert result.exit_code == 0, result.output
    assert len(smtp.messages) == 7


def test_periodic_jobs_run_in_their_own_transaction_and_failures_do_not_stop_the_worker(
    app, smtp, monkeypatch
):
    def queue_one():
        queue_plain_emails(1)

    def broken():
        db.session.add(OutboxMessage(channel="email", recipient="x@example.org"))
        db.session.flush()
        raise RuntimeError("a bug in a job")

    monkeypatch.setattr(worker, "PERIODIC_JOBS", [(60, broken), (60, queue_one)])
    counts = run_worker(app, once=True)
    assert counts.sent == 1  # what the job queued went out in the same run
    db.session.expire_all()
    assert [m.recipient for m in db.session.scalars(sa.select(OutboxMessage))] == ["r0@example.org"]


def test_the_worker_waits_between_passes_until_stopped(app, smtp):
    stop = threading.Event()
    loop = threading.Thread(
        target=run_worker, args=(app,), kwargs={"interval": 0.05, "stop": stop}, daemon=True
    )
    loop.start()
    time.sleep(0.2)
    queue_plain_emails(2)
    for _ in range(100):
        if len(smtp.messages) == 2:
            break
        time.sleep(0.05)
    stop.set()
    loop.join(timeout=5)
    assert not loop.is_alive()
    assert len(smtp.messages) == 2


def test_sigterm_stops_the_worker_cleanly(app, smtp, tmp_path):
    env = {
        **os.environ,
        "TELLCITY_INSTANCE_PATH": str(tmp_path / "worker"),
        "TELLCITY_SECRET_KEY": "tests-only-secret",
        "TELLCITY_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "TELLCITY_MAIL_SERVER": "127.0.0.1",
        "TELLCITY_MAIL_PORT": str(smtp.port),
    }
    tellcity = os.path.join(os.path.dirname(sys.executable), "tellcity")
    process = subprocess.Popen(
        [tellcity, "worker", "--interval", "0.1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        queue_plain_emails(1)
        for _ in range(100):
            if smtp.messages:
                break
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, output
    assert len(smtp.messages) == 1
    assert output.count("Sent outbox message") == 1  # each line printed once
    assert "Outbox worker stopped: 1 sent" in output


def test_dead_messages_can_be_listed_and_retried_from_the_command_line(app, cli):
    queue_plain_emails(1)
    message = db.session.scalar(sa.select(OutboxMessage))
    message.status = "dead"
    message.attempts = 8
    message.last_error = "SMTP: ConnectionRefusedError"
    db.session.commit()

    status = cli.invoke(args=["outbox-status"])
    assert "dead: 1" in status.output
    assert f"dead {message.id}: email to r0@example.org" in status.output

    retried = cli.invoke(args=["outbox-retry", str(message.id)])
    assert retried.exit_code == 0, retried.output
    db.session.expire_all()
    assert (message.status, message.attempts) == ("pending", 0)

    again = cli.invoke(args=["outbox-retry", str(message.id)])
    assert again.exit_code == 1
    assert "is pending, not dead" in again.output
    assert "no outbox message 999" in cli.invoke(args=["outbox-retry", "999"]).output


def test_a_hanging_geocoder_does_not_delay_deliveries(app, smtp, ban):
    """The address back-fill waits on a geocoder that hangs, in its own thread: messages
    queued meanwhile still go out at the worker's pace."""
    from tests.geo.ban_server import TOWN_HALL

    ban.addresses, ban.delay = [TOWN_HALL], 60
    app.config["GEOCODER_TIMEOUT"] = 60
    reported(email_department(), address="", lat=TOWN_HALL.lat, lon=TOWN_HALL.lon)
    db.session.commit()
    stop = threading.Event()
    loop = threading.Thread(
        target=run_worker, args=(app,), kwargs={"interval": 0.05, "stop": stop}, daemon=True
    )
    loop.start()
    try:
        assert wait_until(lambda: ban.requests)  # the back-fill now hangs on the geocoder
        lags = []
        for sent in range(1, 4):
            queued_at = time.monotonic()
            queue_plain_emails(1)
            assert wait_until(lambda sent=sent: len(smtp.messages) == sent)
            lags.append(time.monotonic() - queued_at)
        assert len(ban.requests) == 1  # still hanging
        assert max(lags) < 5  # about the interval; waiting for the job would take a minute
    finally:
        ban.released.set()
        stop.set()
        loop.join(timeout=10)
    assert not loop.is_alive()


def test_a_worker_can_be_given_some_jobs_only(app, cli, smtp):
    queue_plain_emails(1)
    result = cli.invoke(args=["worker", "--once", "--jobs", "stats,escalations"])
    assert result.exit_code == 0, result.output
    assert smtp.messages == []  # not a delivering worker
    result = cli.invoke(args=["worker", "--once", "--jobs", "deliveries"])
    assert result.exit_code == 0 and "1 sent" in result.output
    result = cli.invoke(args=["worker", "--jobs", "deliveries,gardening"])
    assert result.exit_code == 2
    assert "gardening is not a job; the jobs are deliveries, escalations" in result.output


def wait_until(condition, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
