from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tellcity.core.db import Json, UTCDateTime, in_list, utcnow
from tellcity.extensions import db

if TYPE_CHECKING:
    from tellcity.cities.models import City


class Delivery(StrEnum):
    """How a department hears of a new or transferred report, besides its dashboard."""

    DASHBOARD = "dashboard"
    EMAIL = "email"
    WEBHOOK = "webhook"
    #: POSTed to the department's own Open311 GeoReport v2 system (tellcity.open311.client).
    OPEN311 = "open311"


class Department(db.Model):
    __tablename__ = "departments"
    __table_args__ = (
        sa.UniqueConstraint("city_id", "slug"),
        sa.CheckConstraint(in_list("delivery_method", list(Delivery)), name="delivery_method"),
        sa.CheckConstraint(
            "delivery_method != 'email' OR email IS NOT NULL", name="email_delivery_has_email"
        ),
        sa.CheckConstraint(
            "delivery_method != 'webhook' OR webhook_url IS NOT NULL",
            name="webhook_delivery_has_url",
        ),
        sa.CheckConstraint(
            "delivery_method != 'open311' OR open311_endpoint IS NOT NULL",
            name="open311_delivery_has_endpoint",
        ),
        # One triage desk per city: the department that gets what no rule routes.
        sa.Index(
            "uq_departments_triage_per_city",
            "city_id",
            unique=True,
            sqlite_where=sa.text("is_triage"),
            postgresql_where=sa.text("is_triage"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("cities.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    #: Who hears of an overdue ticket when the department has no manager and its city no
    #: administrator (tellcity.departments.escalation).
    escalation_email: Mapped[str | None] = mapped_column(sa.String(254))
    delivery_method: Mapped[str] = mapped_column(sa.String(16), default=Delivery.DASHBOARD)
    webhook_url: Mapped[str | None] = mapped_column(sa.String(500))
    #: Key of the HMAC-SHA256 signature sent with each webhook call.
    webhook_secret: Mapped[str | None] = mapped_column(sa.String(128))
    #: An outside body (a utility, the territory) that reports are referred to.
    is_external: Mapped[bool] = mapped_column(default=False)
    #: The department's own Open311 system (tellcity.open311.client): its base URL (where
    #: services.json and requests.json are), the API key given to us (write-only in the
    #: admin pages), the jurisdiction id, and its services.json as last fetched.
    open311_endpoint: Mapped[str | None] = mapped_column(sa.String(500))
    open311_api_key: Mapped[str | None] = mapped_column(sa.String(200))
    open311_jurisdiction: Mapped[str | None] = mapped_column(sa.String(200))
    open311_services: Mapped[list | None] = mapped_column(Json)
    open311_services_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Whether that system answers mySociety's servicerequestupdates (None: not asked yet);
    #: without it, each forwarded request is followed by its own requests/{id}.
    open311_offers_updates: Mapped[bool | None] = mapped_column()
    is_triage: Mapped[bool] = mapped_column(default=False)
    is_imported: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    city: Mapped["City"] = relationship()

    def __repr__(self) -> str:
        return f"<Department {self.slug} of city {self.city_id}>"
