"""What TellCity keeps as an Open311 client: how our categories map to a department's remote
services, and where each report forwarded to a remote department stands there."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tellcity.core.db import BigId, Json, UTCDateTime, in_list, utcnow
from tellcity.departments.models import Department
from tellcity.extensions import db


class Open311Mapping(db.Model):
    """One of our categories as one of a department's remote services: its `service_code`,
    and the remote attributes filled from our category's questions (`attributes`: remote
    attribute code -> our question code)."""

    __tablename__ = "open311_mappings"
    __table_args__ = (sa.UniqueConstraint("department_id", "category_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id", ondelete="CASCADE"))
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id", ondelete="CASCADE"))
    service_code: Mapped[str] = mapped_column(sa.String(100))
    attributes: Mapped[dict | None] = mapped_column(Json)

    def __repr__(self) -> str:
        return f"<Open311Mapping {self.category_id} -> {self.service_code}>"


#: What a remote attribute may be answered with besides the category's questions: facts of the
#: report itself, for the attributes a remote fills from its sender rather than from the
#: resident (FixMyStreet's `fixmystreet_id`, a `report_url`). Their codes hold a ":", which no
#: question's code may (tellcity.categories.questions.ATTRIBUTE_CODE).
REPORT_FIELDS = {
    "report:reference": _l("The report's reference"),
    "report:url": _l("The report's public address"),
}


class RemoteState(StrEnum):
    #: Waiting for the worker to POST it (or to POST it again after a refusal was fixed).
    QUEUED = "queued"
    #: The remote answered with a token only: followed up through tokens/{token}.
    TOKEN = "token"
    #: The remote gave its service_request_id; open there.
    OPEN = "open"
    #: Closed there.
    CLOSED = "closed"
    #: The remote refused it (4xx with Open311 errors); `last_error` holds its words.
    REFUSED = "refused"
    #: No longer followed (the report left the department, or was given up on).
    STOPPED = "stopped"


#: What staff read for each state (translated when shown).
STATE_LABELS = {
    RemoteState.QUEUED: _l("waiting to be sent"),
    RemoteState.TOKEN: _l("received, waiting for its id"),
    RemoteState.OPEN: _l("open there"),
    RemoteState.CLOSED: _l("closed there"),
    RemoteState.REFUSED: _l("refused"),
    RemoteState.STOPPED: _l("no longer followed"),
}


class RemoteRequest(db.Model):
    """One report forwarded to one remote department's Open311 system: sent at most once
    (a `service_request_id` known means never POSTed again), then followed."""

    __tablename__ = "remote_requests"
    __table_args__ = (
        sa.UniqueConstraint("report_id", "department_id"),
        sa.CheckConstraint(in_list("state", list(RemoteState)), name="state"),
        sa.Index(None, "state", "next_sync_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(BigId, sa.ForeignKey("reports.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(sa.String(16), default=RemoteState.QUEUED)
    token: Mapped[str | None] = mapped_column(sa.String(200))
    service_request_id: Mapped[str | None] = mapped_column(sa.String(200))
    remote_status: Mapped[str | None] = mapped_column(sa.String(32))
    remote_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The ids of the remote's updates already applied here (tellcity.open311 updates).
    applied_updates: Mapped[list | None] = mapped_column(Json)
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The last failure, in the remote's words when it gave some.
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    department: Mapped[Department] = relationship()

    def __repr__(self) -> str:
        return f"<RemoteRequest report {self.report_id} at {self.department_id} {self.state}>"
