import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tellcity.core.db import BigId, Json, UTCDateTime, in_list, utcnow
from tellcity.core.request_log import current_request_id
from tellcity.extensions import db


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"
    #: A report POSTed to a department's Open311 system (tellcity.open311.client).
    OPEN311 = "open311"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    #: Claimed by a worker until `locked_until`; back to pending if the worker died.
    SENDING = "sending"
    SENT = "sent"
    #: Gave up after the last retry; kept for staff to look at and retry.
    DEAD = "dead"
    #: Dropped by an administrator: never to be sent, kept for the record.
    DROPPED = "dropped"


def _new_message_id() -> str:
    return str(uuid.uuid4())


class OutboxMessage(db.Model):
    """A message to deliver. `dedupe_key` makes queuing the same notification twice a no-op;
    `message_id` is sent with it (Message-ID, webhook header) so receivers can drop repeats."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        sa.CheckConstraint(in_list("channel", list(Channel)), name="channel"),
        sa.CheckConstraint(in_list("status", list(OutboxStatus)), name="status"),
        sa.CheckConstraint("attempts >= 0", name="attempts_positive"),
        sa.Index(None, "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[str] = mapped_column(sa.String(36), unique=True, default=_new_message_id)
    channel: Mapped[str] = mapped_column(sa.String(16))
    recipient: Mapped[str] = mapped_column(sa.String(500))
    subject: Mapped[str] = mapped_column(sa.String(300), default="")
    body: Mapped[str] = mapped_column(sa.Text, default="")
    html_body: Mapped[str | None] = mapped_column(sa.Text)
    payload: Mapped[dict | None] = mapped_column(Json)
    report_id: Mapped[int | None] = mapped_column(
        BigId, sa.ForeignKey("reports.id", ondelete="SET NULL"), index=True
    )
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(128), unique=True)
    status: Mapped[str] = mapped_column(sa.String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The id of the request that queued it (X-Request-ID), to follow a message back to the
    #: request's log line; None for what the worker queued (tellcity.core.request_log).
    request_id: Mapped[str | None] = mapped_column(sa.String(64), default=current_request_id)

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.channel} {self.status}>"
