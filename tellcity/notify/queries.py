"""Reads of the notify feature: a report's followers, subscriptions by token, and the state of
the outbox for staff."""

from datetime import datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa

from tellcity.accounts.models import User
from tellcity.core.db import utcnow
from tellcity.extensions import db
from tellcity.notify.models import OutboxMessage, OutboxStatus
from tellcity.reports.models import Report, Subscription
from tellcity.staff.queries import decode_cursor, encode_cursor


class Follower(NamedTuple):
    """Where and in which language to tell one follower of a report, and the token of their
    unsubscribe link."""

    email: str
    locale: str
    token: str


def report_followers(report: Report) -> list[Follower]:
    """Everyone following `report` who confirmed it (an address given on a public page is
    followed only once its owner clicked the confirmation link): signed-in users by their
    account's address and language, the others by the address they gave in the language of
    the page they gave it on (French when unknown), oldest subscription first."""
    rows = db.session.execute(
        sa.select(
            Subscription.email, Subscription.locale, Subscription.token, User.email, User.locale
        )
        .outerjoin(User, User.id == Subscription.user_id)
        .where(Subscription.report_id == report.id, Subscription.is_confirmed)
        .order_by(Subscription.id)
    )
    return [
        Follower(user_email or email, user_locale or locale or "fr", token)
        for email, locale, token, user_email, user_locale in rows
        if user_email or email
    ]


def subscription_by_token(token: str) -> Subscription | None:
    """The subscription whose unsubscribe link carries `token`, if it still exists."""
    return db.session.scalar(sa.select(Subscription).where(Subscription.token == token))


def followed_report(subscription: Subscription) -> Report | None:
    """The report `subscription` follows; None when it follows a zone or a category."""
    return db.session.get(Report, subscription.report_id) if subscription.report_id else None


def dead_messages(limit: int = 100) -> list[OutboxMessage]:
    """Messages the worker gave up on, most recent first, for staff to look at and retry."""
    query = (
        sa.select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.DEAD)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def status_counts() -> dict[str, int]:
    """How many messages are in each status (every status present, zero or not)."""
    rows = db.session.execute(
        sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
    )
    counts = dict.fromkeys(OutboxStatus, 0)
    counts.update({OutboxStatus(status): count for status, count in rows})
    return {str(status): count for status, count in counts.items()}


class OutboxDepth(NamedTuple):
    """The outbox's backlog, for the operator's metrics (tellcity.core.metrics)."""

    counts: dict[str, int]
    oldest_pending_seconds: float


#: The statuses whose messages are counted for the metrics: the sent ones grow forever.
BACKLOG = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.DEAD)


def outbox_depth(now: datetime | None = None) -> OutboxDepth:
    """How many messages wait, are being sent or died; and how many seconds the pending message
    due the longest has waited since it became due (0 when none is due: a message waiting for
    its retry is not late). Both read the (status, next_attempt_at) index alone, cheap enough
    for every scrape."""
    now = now or utcnow()
    rows = db.session.execute(
        sa.select(OutboxMessage.status, sa.func.count())
        .where(OutboxMessage.status.in_(BACKLOG))
        .group_by(OutboxMessage.status)
    )
    counts = {str(status): 0 for status in BACKLOG} | {status: count for status, count in rows}
    oldest = db.session.scalar(
        sa.select(sa.func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.status == OutboxStatus.PENDING
        )
    )
    waited = (now - oldest).total_seconds() if oldest is not None else 0.0
    return OutboxDepth(counts, max(waited, 0.0))


# The outbox page and the staff's warning. Both read by the (status, next_attempt_at) index:
# a pending message's next_attempt_at is its next try, a dead one's the time it died (worker).

#: The lists of the outbox page: their statuses, and whether the latest comes first.
OUTBOX_LISTS = {
    "pending": ((OutboxStatus.PENDING, OutboxStatus.SENDING), False),
    "dead": ((OutboxStatus.DEAD,), True),
}
OUTBOX_PAGE_SIZE = 50


class OutboxRow(NamedTuple):
    message: OutboxMessage
    #: The reference of the report the message is about (None when it was deleted since).
    reference: str | None


def outbox_page(
    city_id: int | None, shown: str, after: str | None = None, limit: int = OUTBOX_PAGE_SIZE
) -> tuple[list[OutboxRow], str | None]:
    """A page of the outbox list `shown` (a key of OUTBOX_LISTS): messages waiting to be sent
    by next try, or the dead ones latest first; those of the city `city_id`'s reports (None:
    every message). Returns the rows and the cursor of the next page (None on the last)."""
    statuses, latest_first = OUTBOX_LISTS[shown]
    when, key = OutboxMessage.next_attempt_at, OutboxMessage.id
    query = _of_city(
        sa.select(OutboxMessage, Report.reference).where(OutboxMessage.status.in_(statuses)),
        city_id,
    )
    cursor = _outbox_cursor(after)
    if cursor is not None:
        bound = sa.tuple_(when, key)
        query = query.where(
            bound < sa.tuple_(*cursor) if latest_first else bound > sa.tuple_(*cursor)
        )
    order = (when.desc(), key.desc()) if latest_first else (when, key)
    rows = [OutboxRow(*row) for row in db.session.execute(query.order_by(*order).limit(limit + 1))]
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1].message
    return rows[:limit], encode_cursor([last.next_attempt_at, last.id])


def outbox_message(message_id: int, city_id: int | None) -> OutboxMessage | None:
    """The message `message_id` if it is about a report of the city `city_id` (None: any)."""
    query = _of_city(sa.select(OutboxMessage).where(OutboxMessage.id == message_id), city_id)
    return db.session.scalar(query)


def failing_messages(
    city_id: int | None,
    now: datetime,
    *,
    dead_within: timedelta = timedelta(hours=24),
    late_by: timedelta = timedelta(minutes=30),
    cap: int = 100,
) -> int:
    """How many of the city's messages (None: of every city) are failing, counted up to `cap`:
    those that died within `dead_within`, and those still waiting `late_by` past their next
    try (the worker is stopped, or cannot keep up). Cheap enough for every staff page: two
    ranges of the index, each stopped at `cap` (at a million messages on PostgreSQL, 2 to 5 ms
    in all with `cap` 1, the query itself under 0.1 ms)."""
    dead = sa.and_(
        OutboxMessage.status == OutboxStatus.DEAD,
        OutboxMessage.next_attempt_at >= now - dead_within,
    )
    late = sa.and_(
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.next_attempt_at < now - late_by,
    )
    total = 0
    for condition in (dead, late):
        found = _of_city(sa.select(OutboxMessage.id).where(condition), city_id).limit(cap)
        total += db.session.scalar(sa.select(sa.func.count()).select_from(found.subquery()))
        if total >= cap:
            return cap
    return total


def _of_city(query: sa.Select, city_id: int | None) -> sa.Select:
    """`query` of outbox messages, with their report, kept to the city `city_id`'s reports
    (None: every message, those of deleted reports too)."""
    query = query.outerjoin(Report, Report.id == OutboxMessage.report_id)
    return query if city_id is None else query.where(Report.city_id == city_id)


def _outbox_cursor(after: str | None) -> tuple[datetime, int] | None:
    """The (next_attempt_at, id) a page starts after; None for a link not made here."""
    values = decode_cursor(after) if after else None
    if not values or len(values) != 2:
        return None
    when, message_id = values
    if not isinstance(when, datetime) or type(message_id) is not int:
        return None
    return when, message_id
