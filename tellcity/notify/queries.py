"""Reads of the notify feature: a report's followers, subscriptions by token, and the state of
the outbox for staff."""

from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa

from tellcity.accounts.models import User
from tellcity.core.db import utcnow
from tellcity.extensions import db
from tellcity.notify.models import OutboxMessage, OutboxStatus
from tellcity.reports.models import Report, Subscription


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
