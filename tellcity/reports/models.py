from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tellcity.core.db import BigId, Json, UTCDateTime, in_list, utcnow
from tellcity.extensions import db
from tellcity.reports.states import OPEN_STATUSES, EventType, Kind, Priority, Source, Status
from tellcity.reports.states import is_open as is_open_status

if TYPE_CHECKING:
    from tellcity.accounts.models import User
    from tellcity.categories.models import Category
    from tellcity.cities.models import City, Zone
    from tellcity.departments.models import Department


def _report_fk(ondelete: str = "CASCADE") -> sa.ForeignKey:
    return sa.ForeignKey("reports.id", ondelete=ondelete)


def _where_set(*columns: str) -> sa.Index:
    """An index of the rows whose last column is not NULL (on SQLite and PostgreSQL alike)."""
    where = sa.text(f"{columns[-1]} IS NOT NULL")
    return sa.Index(None, *columns, sqlite_where=where, postgresql_where=where)


class Report(db.Model):
    """A problem or a suggestion. The `reporter_*` columns are private: only staff see them, and
    no public schema has a field for them."""

    __tablename__ = "reports"
    __table_args__ = (
        sa.CheckConstraint(in_list("kind", list(Kind)), name="kind"),
        sa.CheckConstraint(in_list("status", list(Status)), name="status"),
        sa.CheckConstraint(in_list("source", list(Source)), name="source"),
        sa.CheckConstraint(
            f"priority BETWEEN {Priority.URGENT} AND {Priority.LOW}", name="priority_range"
        ),
        sa.CheckConstraint("lat BETWEEN -90 AND 90", name="lat_range"),
        sa.CheckConstraint("lon BETWEEN -180 AND 180", name="lon_range"),
        # A problem is somewhere; a suggestion may be about the whole city.
        sa.CheckConstraint(
            "(lat IS NULL) = (lon IS NULL) AND (kind = 'suggestion' OR lat IS NOT NULL)",
            name="problem_has_position",
        ),
        sa.CheckConstraint("support_count >= 0", name="support_count_positive"),
        sa.CheckConstraint("duplicate_of_id != id", name="not_duplicate_of_itself"),
        # A duplicate names its original, except those imported from exports that do not say.
        sa.CheckConstraint(
            "status != 'duplicate' OR duplicate_of_id IS NOT NULL OR source = 'import'",
            name="duplicate_has_original",
        ),
        sa.UniqueConstraint("city_id", "external_id"),
        # The indexes the queue, SLA views, stats and map read at a million reports.
        sa.Index(None, "department_id", "status", "created_at"),
        sa.Index(None, "status", "due_at"),
        # A category's open recent reports ("same problem?", the ticket page) and the queue's
        # category filter; it also serves the foreign key.
        sa.Index(None, "category_id", "status", "created_at"),
        sa.Index(None, "lat", "lon"),
        # Every public and Open311 read is of one city over a date range; the statistics also
        # read what was closed in a range, and the backlog.
        sa.Index(None, "city_id", "created_at"),
        sa.Index(None, "city_id", "status", "created_at"),
        # Columns most reports leave empty are indexed where they are not: a new report then
        # writes none of these indexes (each a page more in every submission's commit), and
        # what looks a value up (`= ?`, a range) still finds it there.
        _where_set("city_id", "closed_at"),
        _where_set("assignee_id"),
        _where_set("duplicate_of_id"),
        _where_set("referred_to_id"),
        _where_set("reporter_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("cities.id", ondelete="RESTRICT"))
    #: Public reference, e.g. ISS-2026-000123.
    reference: Mapped[str] = mapped_column(sa.String(32), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(16), default=Kind.PROBLEM)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(sa.String(20), default=Status.NEW)
    priority: Mapped[int] = mapped_column(sa.SmallInteger, default=Priority.NORMAL)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id", ondelete="RESTRICT"))
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    zone_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("zones.id", ondelete="SET NULL"), index=True
    )
    lat: Mapped[float | None] = mapped_column(sa.Float)
    lon: Mapped[float | None] = mapped_column(sa.Float)
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    #: Answers to the category's extra questions, by attribute code.
    attributes: Mapped[dict | None] = mapped_column(Json)
    #: When 80 % of the SLA's business hours are used, and when they all are.
    at_risk_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the overdue report was escalated to the department's manager (once).
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    support_count: Mapped[int] = mapped_column(default=0)
    duplicate_of_id: Mapped[int | None] = mapped_column(BigId, _report_fk("SET NULL"))
    #: The outside body a referred report was sent to.
    referred_to_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("departments.id", ondelete="SET NULL")
    )
    #: Reason code of a not_actionable or rejected closure.
    close_reason: Mapped[str | None] = mapped_column(sa.String(40))
    source: Mapped[str] = mapped_column(sa.String(16), default=Source.WEB)
    #: The id the report had in the system it was imported from.
    external_id: Mapped[str | None] = mapped_column(sa.String(64))
    #: The client's Idempotency-Key: a retried submission finds the report it already made.
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(128), unique=True)
    reporter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    reporter_name: Mapped[str | None] = mapped_column(sa.String(120))
    reporter_email: Mapped[str | None] = mapped_column(sa.String(254))
    reporter_phone: Mapped[str | None] = mapped_column(sa.String(40))
    #: The reporter may stop the emails about their report from its tracking page.
    notify_reporter: Mapped[bool] = mapped_column(default=True)
    #: Language the reporter wrote in, for the notifications they get.
    locale: Mapped[str] = mapped_column(sa.String(5), default="fr")
    is_hidden: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the reporter confirmed the fix.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    city: Mapped["City"] = relationship()
    category: Mapped["Category"] = relationship()
    department: Mapped["Department"] = relationship(foreign_keys=[department_id])
    referred_to: Mapped["Department | None"] = relationship(foreign_keys=[referred_to_id])
    assignee: Mapped["User | None"] = relationship(foreign_keys=[assignee_id])
    zone: Mapped["Zone | None"] = relationship()
    events: Mapped[list["ReportEvent"]] = relationship(
        back_populates="report", order_by="ReportEvent.id", cascade="all, delete-orphan"
    )
    photos: Mapped[list["Photo"]] = relationship(
        back_populates="report", order_by="Photo.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Report {self.reference} {self.status}>"

    @hybrid_property
    def is_open(self) -> bool:
        """Still being dealt with (Open311's "open"); in a query, the same test on the column.
        Templates say `report is open`."""
        return is_open_status(self.status)

    @is_open.inplace.expression
    @classmethod
    def _is_open_expression(cls) -> sa.ColumnElement[bool]:
        return cls.status.in_([str(status) for status in sorted(OPEN_STATUSES)])


class ReportSequence(db.Model):
    """The last reference number given in a city in a year: ISS-2026-000123 is number 123."""

    __tablename__ = "report_sequences"

    city_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cities.id", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<ReportSequence city {self.city_id} {self.year}: {self.last_number}>"


class PublicVersion(db.Model):
    """A number that changes with every change a public answer about the city's reports could
    show (tellcity.reports.versions): the validator of the answers clients poll."""

    __tablename__ = "public_versions"

    city_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cities.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(sa.BigInteger, default=0)

    def __repr__(self) -> str:
        return f"<PublicVersion city {self.city_id}: {self.version}>"


class ReportEvent(db.Model):
    """One entry of a report's history: the audit trail, and (where `is_public`) the timeline
    residents see."""

    __tablename__ = "report_events"
    __table_args__ = (
        sa.CheckConstraint(in_list("type", list(EventType)), name="type"),
        sa.Index(None, "report_id", "created_at"),
        sa.Index(None, "created_at"),  # the public updates feed (Open311 servicerequestupdates)
        sa.Index(None, "type", "created_at"),  # transfers and reopenings in a range (stats)
        _where_set("actor_id"),  # a resident's or an app's event has no actor
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(BigId, _report_fk())
    type: Mapped[str] = mapped_column(sa.String(24))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: Who acted when it was not a user: "resident", "API key open311-app", "system".
    actor_label: Mapped[str] = mapped_column(sa.String(120), default="")
    from_value: Mapped[str | None] = mapped_column(sa.String(64))
    to_value: Mapped[str | None] = mapped_column(sa.String(64))
    text: Mapped[str] = mapped_column(sa.Text, default="")
    data: Mapped[dict | None] = mapped_column(Json)
    is_public: Mapped[bool] = mapped_column(default=False)
    #: Hidden by a moderator: staff still see it, the public does not.
    is_hidden: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[Report] = relationship(back_populates="events")

    def __repr__(self) -> str:
        return f"<ReportEvent {self.id} {self.type} on report {self.report_id}>"


IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")


class Photo(db.Model):
    """A photo stored under instance/uploads/, metadata stripped. `storage_key` is a random
    name, never the uploader's file name."""

    __tablename__ = "photos"
    __table_args__ = (
        sa.CheckConstraint(in_list("content_type", IMAGE_TYPES), name="content_type"),
        sa.CheckConstraint("width > 0 AND height > 0", name="dimensions_positive"),
        sa.CheckConstraint("byte_size > 0", name="byte_size_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(BigId, _report_fk(), index=True)
    #: The event that added it (an "after" photo attached to a resolution, say).
    event_id: Mapped[int | None] = mapped_column(
        BigId, sa.ForeignKey("report_events.id", ondelete="SET NULL"), index=True
    )
    storage_key: Mapped[str] = mapped_column(sa.String(128), unique=True)
    thumbnail_key: Mapped[str] = mapped_column(sa.String(128), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(32))
    width: Mapped[int]
    height: Mapped[int]
    byte_size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    is_hidden: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[Report] = relationship(back_populates="photos")

    def __repr__(self) -> str:
        return f"<Photo {self.storage_key} of report {self.report_id}>"


class Support(db.Model):
    """A "me too" on a problem or a vote for a suggestion, once per person: a signed-in user,
    or an anonymous supporter known by the hash of a token in a signed cookie."""

    __tablename__ = "supports"
    __table_args__ = (
        sa.UniqueConstraint("report_id", "user_id"),
        sa.UniqueConstraint("report_id", "supporter_key"),
        sa.CheckConstraint(
            "user_id IS NOT NULL OR supporter_key IS NOT NULL", name="has_supporter"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(BigId, _report_fk())
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    supporter_key: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Support of report {self.report_id}>"


class Subscription(db.Model):
    """Someone (a user, or an email address) following one report, one zone or one category."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        sa.CheckConstraint("user_id IS NOT NULL OR email IS NOT NULL", name="has_subscriber"),
        sa.CheckConstraint(
            "(CASE WHEN report_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN zone_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN category_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_target",
        ),
        sa.UniqueConstraint("report_id", "user_id"),
        sa.UniqueConstraint("report_id", "email"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str | None] = mapped_column(sa.String(254))
    report_id: Mapped[int | None] = mapped_column(BigId, _report_fk())
    zone_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("zones.id", ondelete="CASCADE"), index=True
    )
    category_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("categories.id", ondelete="CASCADE"), index=True
    )
    #: Secret in the unsubscribe link (and in the confirmation link of a public page's follow).
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    is_confirmed: Mapped[bool] = mapped_column(default=False)
    #: Where the address was given: "reporter" (on the reporter's private page, which lists
    #: it), "public" (a public page's follow form), "merge" (a merged duplicate's reporter).
    origin: Mapped[str] = mapped_column(
        sa.String(16), default="reporter", server_default="reporter"
    )
    #: The language of the page the address was given on, for its emails (a signed-in
    #: follower's account says its own).
    locale: Mapped[str | None] = mapped_column(sa.String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Subscription {self.id}>"
