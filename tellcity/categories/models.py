from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tellcity.core.db import Json, UTCDateTime, in_list, utcnow
from tellcity.extensions import db
from tellcity.reports.states import Kind, Priority

if TYPE_CHECKING:
    from tellcity.cities.models import City
    from tellcity.departments.models import Department


class Category(db.Model):
    """What a report is about. Its `code` is the Open311 service_code, unique in its city;
    `attributes` are its extra questions as Open311 attribute definitions."""

    __tablename__ = "categories"
    __table_args__ = (
        sa.UniqueConstraint("city_id", "code"),
        sa.CheckConstraint(in_list("kind", list(Kind)), name="kind"),
        sa.CheckConstraint(
            f"default_priority BETWEEN {Priority.URGENT} AND {Priority.LOW}",
            name="default_priority_range",
        ),
        sa.CheckConstraint("sla_hours IS NULL OR sla_hours > 0", name="sla_hours_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("cities.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(16), default=Kind.PROBLEM)
    code: Mapped[str] = mapped_column(sa.String(64))
    name_fr: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[str] = mapped_column(sa.String(200))
    description_fr: Mapped[str] = mapped_column(sa.Text, default="")
    description_en: Mapped[str] = mapped_column(sa.Text, default="")
    #: The heading the category is listed under in the form (Open311 "group").
    group_fr: Mapped[str] = mapped_column(sa.String(100), default="")
    group_en: Mapped[str] = mapped_column(sa.String(100), default="")
    keywords: Mapped[str] = mapped_column(sa.String(300), default="")
    department_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("departments.id", ondelete="SET NULL"), index=True
    )
    #: Target time to resolve, in business hours of the city's calendar.
    sla_hours: Mapped[int | None]
    default_priority: Mapped[int] = mapped_column(sa.SmallInteger, default=Priority.NORMAL)
    attributes: Mapped[list] = mapped_column(Json, default=list)
    is_active: Mapped[bool] = mapped_column(default=True)
    is_imported: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    city: Mapped["City"] = relationship()
    department: Mapped["Department | None"] = relationship()

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_fr

    def __repr__(self) -> str:
        return f"<Category {self.code} of city {self.city_id}>"
