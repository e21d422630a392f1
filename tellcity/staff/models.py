from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tellcity.core.db import UTCDateTime, utcnow
from tellcity.extensions import db

if TYPE_CHECKING:
    from tellcity.categories.models import Category
    from tellcity.departments.models import Department


class ReplyTemplate(db.Model):
    """A ready-made public answer, for one department or category (or the whole city when
    neither is set). Its body may use the placeholders of
    tellcity.staff.services.TEMPLATE_PLACEHOLDERS, e.g. {reference} and {due_date}."""

    __tablename__ = "reply_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("cities.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("departments.id", ondelete="CASCADE"), index=True
    )
    category_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("categories.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(sa.String(120))
    body: Mapped[str] = mapped_column(sa.Text)
    #: The status the template is meant for (e.g. "resolved"), or None for any reply.
    status: Mapped[str | None] = mapped_column(sa.String(20))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    department: Mapped["Department | None"] = relationship()
    category: Mapped["Category | None"] = relationship()

    def __repr__(self) -> str:
        return f"<ReplyTemplate {self.id} {self.title!r}>"
