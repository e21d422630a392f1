from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tellcity.core.db import Json, UTCDateTime
from tellcity.extensions import db


class StatsSnapshot(db.Model):
    """The finished statistics of a city for one set of filters (`key`: the range, the
    filters, the period; see StatsFilters.cache_key), as computed at `computed_at`, kept so that
    every worker process answers from them for a few minutes (STATS_CACHE_SECONDS) instead of
    scanning a year of reports again. `document` is Overview.to_document(): figures only,
    the same for every reader who may see them."""

    __tablename__ = "stats_snapshots"
    __table_args__ = (sa.UniqueConstraint("city_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("cities.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(255))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    document: Mapped[dict] = mapped_column(Json)

    def __repr__(self) -> str:
        return f"<StatsSnapshot {self.key} of city {self.city_id} at {self.computed_at:%H:%M:%S}>"
