from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tellcity.extensions import db

if TYPE_CHECKING:
    from tellcity.categories.models import Category
    from tellcity.cities.models import City, Zone
    from tellcity.departments.models import Department


class RoutingRule(db.Model):
    """Reports of `category` in `zone` (any zone when null) go to `department`.

    Rules are tried by ascending `position`, zone-specific ones before the any-zone ones.
    """

    __tablename__ = "routing_rules"
    __table_args__ = (sa.Index(None, "category_id", "zone_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("cities.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id", ondelete="CASCADE"))
    zone_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("zones.id", ondelete="CASCADE"), index=True
    )
    department_id: Mapped[int] = mapped_column(
        sa.ForeignKey("departments.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)

    city: Mapped["City"] = relationship()
    category: Mapped["Category"] = relationship()
    zone: Mapped["Zone | None"] = relationship()
    department: Mapped["Department"] = relationship()

    def __repr__(self) -> str:
        zone = self.zone_id or "any"
        return f"<RoutingRule category {self.category_id} zone {zone} → {self.department_id}>"
