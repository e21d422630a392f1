from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tellcity.core.db import BigId, Json, UTCDateTime, utcnow
from tellcity.extensions import db


class AuditEntry(db.Model):
    """One change to the configuration (departments, categories, zones, rules, users, reply
    templates, API keys) with the values before and after. Reports keep their own history in
    ReportEvent."""

    __tablename__ = "audit_entries"
    __table_args__ = (sa.Index(None, "entity", "entity_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    city_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("cities.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    actor_label: Mapped[str] = mapped_column(sa.String(120), default="")
    #: "create", "update" or "delete".
    action: Mapped[str] = mapped_column(sa.String(16))
    #: The table's name, e.g. "categories".
    entity: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    before: Mapped[dict | None] = mapped_column(Json)
    after: Mapped[dict | None] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<AuditEntry {self.action} {self.entity} {self.entity_id}>"
