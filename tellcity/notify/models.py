from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tellcity.core.db import BigId, Json, UTCDateTime, in_list, utcnow
from tellcity.extensions import db


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    #: Gave up after the last retry; kept for an operator to look at and retry.
    FAILED = "failed"


class OutboxMessage(db.Model):
    """A message to deliver. `dedupe_key` makes queuing the same notification twice a no-op."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        sa.CheckConstraint(in_list("channel", list(Channel)), name="channel"),
        sa.CheckConstraint(in_list("status", list(OutboxStatus)), name="status"),
        sa.CheckConstraint("attempts >= 0", name="attempts_positive"),
        sa.Index(None, "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(16))
    recipient: Mapped[str] = mapped_column(sa.String(500))
    subject: Mapped[str] = mapped_column(sa.String(300), default="")
    body: Mapped[str] = mapped_column(sa.Text, default="")
    payload: Mapped[dict | None] = mapped_column(Json)
    report_id: Mapped[int | None] = mapped_column(
        BigId, sa.ForeignKey("reports.id", ondelete="SET NULL"), index=True
    )
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(128), unique=True)
    status: Mapped[str] = mapped_column(sa.String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.channel} {self.status}>"
