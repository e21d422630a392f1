"""The outbox worker: claim the messages that are due, deliver them, record each outcome.

Claiming is one statement, committed before anything is sent:

    UPDATE outbox_messages SET status = 'sending', locked_until = now + lease
    WHERE id IN (SELECT id FROM outbox_messages WHERE <due> ORDER BY id LIMIT n
                 FOR UPDATE SKIP LOCKED)
    RETURNING id

where <due> is "pending and next_attempt_at has come" or "sending and locked_until has passed"
(its worker died). On PostgreSQL SKIP LOCKED lets any number of workers claim side by side
without ever claiming the same message; SQLite serialises writers, and its UPDATE ... RETURNING
is atomic, so it needs no row lock.

Just before sending each message the worker renews its lease, but only if the message still
holds the `locked_until` it was claimed with: had a long batch outlived its lease and another
worker taken the message over, the first worker leaves it alone. Each outcome (sent; or failed,
to retry after an exponential backoff; or dead after the last attempt) is committed on its own,
so a crash re-sends at most the one message that was in flight, and receivers drop that repeat
by its message id.
"""

import logging
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.exc import SQLAlchemyError

from tellcity.core import metrics
from tellcity.core.db import refresh_planner_statistics, utcnow
from tellcity.core.transaction import unit_of_work
from tellcity.extensions import db
from tellcity.notify.delivery import (
    DeliveryError,
    PermanentDeliveryError,
    deliver,
    is_last_attempt,
)
from tellcity.notify.models import OutboxMessage, OutboxStatus

logger = logging.getLogger(__name__)


#: Jobs the worker runs besides delivering: (interval in seconds, job). Each run happens in an
#: app context and a transaction of its own, committed when the job returns, rolled back (and
#: logged) when it raises. Each job runs in a thread of its own beside the delivery loop (see
#: run_worker), so a slow one (a geocoder that hangs, statistics of a large city) delays
#: neither the deliveries nor the other jobs.
def escalate_overdue_tickets() -> None:
    """Overdue tickets to their managers, once each (tellcity.sla)."""
    from tellcity.sla.services import escalate_overdue

    metrics.ESCALATIONS.inc(escalate_overdue())


def fill_missing_addresses() -> None:
    """Addresses of reports filed with a position only (no submission waits on the reverse
    geocoder), and of those the geocoder could not answer for then."""
    from tellcity.geo.geocoding import fill_missing_addresses as fill

    fill()


def sweep_pending_photos() -> None:
    """Photos of forms that were never sent, after a day (from the disk or the object store)."""
    from tellcity.photos import pending

    pending.sweep()


def refresh_statistics() -> None:
    """The query planner's statistics, as the tables grow (SQLite only needs asking)."""
    refresh_planner_statistics(db.engine)


def warm_stats_snapshots() -> None:
    """The city statistics the pages open by default, recomputed before they expire; old
    ones forgotten (tellcity.stats)."""
    from tellcity.stats.services import refresh_default_views

    refresh_default_views()


def follow_open311_forwards() -> None:
    """What departments' own Open311 systems did with the reports forwarded to them, brought
    back to the reports (tellcity.open311.client.updates)."""
    from tellcity.open311.client.updates import follow_forwarded

    follow_forwarded()


PERIODIC_JOBS: list[tuple[float, Callable[[], None]]] = [
    (60.0, escalate_overdue_tickets),
    (30.0, fill_missing_addresses),
    (3600.0, sweep_pending_photos),
    (60.0, warm_stats_snapshots),
    (86400.0, refresh_statistics),
    (60.0, follow_open311_forwards),
]

#: The worker's roles, as `tellcity worker --jobs` names them: deliveries, and the periodic
#: jobs by their role. A job of no role (a test's) runs when every role does.
DELIVERIES = "deliveries"
JOB_ROLES: dict[Callable[[], None], str] = {
    escalate_overdue_tickets: "escalations",
    fill_missing_addresses: "addresses",
    sweep_pending_photos: "photos",
    warm_stats_snapshots: "stats",
    refresh_statistics: "stats",
    follow_open311_forwards: "open311-updates",
}
ROLES = (DELIVERIES, *dict.fromkeys(JOB_ROLES.values()))

#: The backoff doubles with each attempt up to this.
MAX_BACKOFF_SECONDS = 6 * 3600
#: How much of an error is kept in last_error.
ERROR_LENGTH = 2000


@dataclass
class DeliveryCounts:
    """What a worker did with the messages it claimed."""

    sent: int = 0
    #: Failed this time, to be tried again later.
    retrying: int = 0
    #: Failed for the last time.
    dead: int = 0
    #: Claimed but not sent: taken over by another worker, or handed back when stopping.
    skipped: int = 0

    @property
    def claimed(self) -> int:
        return self.sent + self.retrying + self.dead + self.skipped

    def add(self, other: "DeliveryCounts") -> None:
        for field in fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))

    def __str__(self) -> str:
        return f"{self.sent} sent, {self.retrying} to retry, {self.dead} dead"


def deliver_due(
    now: datetime | None = None, batch: int = 50, should_stop: Callable[[], bool] | None = None
) -> DeliveryCounts:
    """Claim up to `batch` due messages, deliver them one by one and commit each outcome.

    `now` fixes the clock (tests); by default each step reads the time afresh. When
    `should_stop` turns true between two messages, the messages not sent yet are handed back to
    the queue. Raises SQLAlchemyError when the database fails (claimed messages then wait for
    their lease to end).
    """
    clock = (lambda: now) if now is not None else utcnow
    claimed, lease = claim_due(clock(), batch)
    counts = DeliveryCounts()
    for position, message_id in enumerate(claimed):
        if should_stop is not None and should_stop():
            counts.skipped += release(claimed[position:], lease)
            break
        outcome = _deliver_one(message_id, lease, clock)
        setattr(counts, outcome, getattr(counts, outcome) + 1)
    return counts


def claim_due(now: datetime, batch: int) -> tuple[list[int], datetime]:
    """Mark up to `batch` due messages as being sent by this worker, and commit. Returns their
    ids, oldest first, and the `locked_until` they were claimed with (the claim's token)."""
    lease = now + timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
    due = sa.or_(
        sa.and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now),
        sa.and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.locked_until < now),
    )
    ids = sa.select(OutboxMessage.id).where(due).order_by(OutboxMessage.id).limit(batch)
    if db.engine.dialect.name == "postgresql":
        ids = ids.with_for_update(skip_locked=True)
    claim = (
        sa.update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids.scalar_subquery()))
        .values(status=OutboxStatus.SENDING, locked_until=lease)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    with unit_of_work():
        claimed = sorted(db.session.scalars(claim))
    return claimed, lease


def release(message_ids: list[int], lease: datetime) -> int:
    """Hand claimed messages back to the queue, due at once (those another worker has not taken
    over since). Commits; returns how many there were."""
    if message_ids:
        with unit_of_work():
            db.session.execute(
                sa.update(OutboxMessage)
                .where(_still_ours(message_ids, lease))
                .values(status=OutboxStatus.PENDING, locked_until=None)
                .execution_options(synchronize_session=False)
            )
    return len(message_ids)


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failure: the configured backoff, doubled for
    each attempt after the first, at most 6 hours."""
    base = current_app.config["OUTBOX_BACKOFF_SECONDS"]
    return timedelta(seconds=min(base * 2 ** min(attempts - 1, 30), MAX_BACKOFF_SECONDS))


def _still_ours(message_ids: list[int], lease: datetime):
    return sa.and_(
        OutboxMessage.id.in_(message_ids),
        OutboxMessage.status == OutboxStatus.SENDING,
        OutboxMessage.locked_until == lease,
    )


def _deliver_one(message_id: int, lease: datetime, clock: Callable[[], datetime]) -> str:
    """Renew the lease, send, record the outcome. Returns the name of a DeliveryCounts field."""
    if not _renew_lease(message_id, lease, clock()):
        return "skipped"
    message = db.session.get(OutboxMessage, message_id)
    try:
        deliver(message)
    except DeliveryError as error:
        permanent = isinstance(error, PermanentDeliveryError)
        return _record_failure(message, str(error), clock(), permanent=permanent)
    except SQLAlchemyError:
        raise
    except Exception as error:
        # A bug in rendering or sending one message must not stop the others.
        logger.exception("Outbox message %s could not be sent", message_id)
        return _record_failure(message, f"{type(error).__name__}: {error}", clock())
    return _record_success(message, clock())


def _renew_lease(message_id: int, lease: datetime, now: datetime) -> bool:
    renewed_until = now + timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
    with unit_of_work():
        renewed = db.session.execute(
            sa.update(OutboxMessage)
            .where(_still_ours([message_id], lease))
            .values(locked_until=renewed_until)
            .execution_options(synchronize_session=False)
        )
    return renewed.rowcount == 1


def _record_success(message: OutboxMessage, now: datetime) -> str:
    with unit_of_work():
        message.status = OutboxStatus.SENT
        message.sent_at = now
        message.locked_until = None
    logger.info(
        "Sent outbox message %s (%s, report %s)", message.id, message.channel, message.report_id
    )
    return "sent"


def _record_failure(
    message: OutboxMessage, error: str, now: datetime, *, permanent: bool = False
) -> str:
    """A failed attempt: retried after the backoff; dead after the last attempt, or at once
    when the receiver refused it for good (`permanent`)."""
    with unit_of_work():
        last = permanent or is_last_attempt(message)
        message.attempts += 1
        message.last_error = error[:ERROR_LENGTH]
        message.locked_until = None
        if last:
            message.status = OutboxStatus.DEAD
            # A dead message is never tried again: its next_attempt_at says when it died,
            # which the outbox page and the staff's warning read (by its index).
            message.next_attempt_at = now
            outcome = "dead"
        else:
            message.status = OutboxStatus.PENDING
            message.next_attempt_at = now + backoff(message.attempts)
            outcome = "retrying"
    logger.warning(
        "Outbox message %s failed (attempt %s, %s): %s",
        message.id,
        message.attempts,
        "given up" if outcome == "dead" else f"next at {message.next_attempt_at:%H:%M:%S} UTC",
        error,
    )
    return outcome


# The loop


def run_worker(
    app: Flask,
    *,
    interval: float = 5.0,
    batch: int = 50,
    once: bool = False,
    stop: threading.Event | None = None,
    roles: Collection[str] = ROLES,
) -> DeliveryCounts:
    """Deliver and run the periodic jobs of `roles` (all by default) until `stop` is set.

    Each periodic job loops in a thread of its own, with its own app context and database
    session, so a slow one never holds up the deliveries or another job. Deliveries loop here:
    a pass, then a wait of `interval` seconds, or at once again after a full batch (more may be
    due). With `once`, run each job once, then deliver everything due (what the jobs queued
    too), and return. Returns the delivery totals."""
    stop = stop or threading.Event()
    jobs = [(seconds, job) for seconds, job in PERIODIC_JOBS if _has_role(job, roles)]
    if once:
        for _seconds, job in jobs:
            _run_job(app, job)
    threads = [] if once else [_start_job_loop(app, seconds, job, stop) for seconds, job in jobs]
    total = DeliveryCounts()
    while DELIVERIES in roles and not stop.is_set():
        counts = _delivery_pass(app, batch, stop)
        total.add(counts)
        busy = counts.claimed >= batch
        if once and not busy:
            break
        if not busy:
            stop.wait(interval)
    if not once:
        stop.wait()  # a worker of periodic jobs alone waits here to be stopped
    for thread in threads:
        thread.join()
    return total


def _has_role(job: Callable[[], None], roles: Collection[str]) -> bool:
    role = JOB_ROLES.get(job)
    return role in roles if role else set(ROLES) <= set(roles)


def _start_job_loop(
    app: Flask, seconds: float, job: Callable[[], None], stop: threading.Event
) -> threading.Thread:
    """Run `job` now and every `seconds` after, in a thread of its own, until `stop` is set."""

    def loop() -> None:
        while not stop.is_set():
            _run_job(app, job)
            stop.wait(seconds)

    name = getattr(job, "__name__", "job")
    thread = threading.Thread(target=loop, name=f"tellcity-{name}", daemon=True)
    thread.start()
    return thread


def _delivery_pass(app: Flask, batch: int, stop: threading.Event) -> DeliveryCounts:
    started = time.perf_counter()
    with app.app_context():
        try:
            with unit_of_work():  # each step commits its own; a failure rolls back the rest
                counts = deliver_due(batch=batch, should_stop=stop.is_set)
        except SQLAlchemyError:
            logger.exception("Outbox delivery failed; trying again at the next pass")
            return DeliveryCounts()
    metrics.WORKER_CYCLE_SECONDS.observe(time.perf_counter() - started)
    for outcome in ("sent", "retrying", "dead"):
        if count := getattr(counts, outcome):
            metrics.DELIVERIES.labels(outcome).inc(count)
    if counts.claimed:
        logger.info("Outbox: %s", counts)
    return counts


def _run_job(app: Flask, job: Callable[[], None]) -> None:
    name = getattr(job, "__name__", str(job))
    started = time.perf_counter()
    with app.app_context():
        try:
            with unit_of_work():
                job()
        except Exception:
            # A failing job is logged and tried again at its next interval; the worker goes on.
            logger.exception("Periodic job %s failed", name)
    metrics.WORKER_JOB_SECONDS.labels(name).observe(time.perf_counter() - started)
