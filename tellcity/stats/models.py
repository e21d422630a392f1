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


#: The columns that key a row of the per-day aggregates: the city, the local day, the cell a
#: report is counted in (0 stands for no zone, so that the key has no NULL and one upsert finds
#: its row on both databases) and whether the report is public (neither hidden nor rejected).
DAILY_KEY = ("city_id", "day", "department_id", "category_id", "zone_id", "kind", "is_public")
#: Counted on the day a report was received (created): received, duplicates among them,
#: closed at a time nobody knows, open now. On the day a report was closed: closed, with a
#: deadline, on time, resolved, resolved and confirmed.
DAILY_COUNTS = (
    "received",
    "duplicates",
    "closed_undated",
    "open",
    "closed",
    "closed_with_deadline",
    "closed_on_time",
    "resolved",
    "confirmed",
)


def _key_columns(day: str = "day") -> list[sa.Column]:
    return [
        sa.Column("city_id", sa.ForeignKey("cities.id", ondelete="CASCADE"), primary_key=True),
        sa.Column(day, sa.Date, primary_key=True),
        sa.Column("department_id", sa.Integer, primary_key=True),
        sa.Column("category_id", sa.Integer, primary_key=True),
        sa.Column("zone_id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("is_public", sa.SmallInteger, primary_key=True),
    ]


#: The statistics' per-day aggregates (tellcity.stats.daily keeps them, tellcity.stats.
#: aggregates reads them): one row per city, local day and cell.
stats_daily = sa.Table(
    "stats_daily",
    db.metadata,
    *_key_columns(),
    *[sa.Column(name, sa.Integer, nullable=False, server_default="0") for name in DAILY_COUNTS],
    sqlite_with_rowid=False,  # kept in key order: a city's range is read in one sweep
)

#: How long reports took, to the millisecond: how many reports of a city, cell and local day
#: took `milliseconds` to be acknowledged (measure 1, on the day they were received) or closed
#: (measure 2, on the day they were closed). Medians and percentiles read from it are exact
#: (to the millisecond: the precision SQLite's timestamps are compared with). `band`: the band
#: of `milliseconds` (tellcity.stats.daily.band), so that the durations of one band of a range
#: are read alone, through the index that starts with it.
stats_durations = sa.Table(
    "stats_durations",
    db.metadata,
    sa.Column("measure", sa.SmallInteger, primary_key=True),
    *_key_columns(),
    sa.Column("milliseconds", sa.BigInteger, primary_key=True),
    sa.Column("count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("band", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Index(
        "ix_stats_durations_band",
        *("city_id", "measure", "band", "day", "department_id", "category_id", "zone_id"),
        *("kind", "is_public", "milliseconds", "count"),  # covering: the rows are read alone
    ),
    sqlite_with_rowid=False,
)

#: How many durations of stats_durations fall in each band, per city, measure, cell and local
#: month (`month`: its first day): a range's medians and percentiles find in it the band
#: each rank falls in, then read only that band's durations (tellcity.stats.aggregates).
stats_duration_bands = sa.Table(
    "stats_duration_bands",
    db.metadata,
    sa.Column("measure", sa.SmallInteger, primary_key=True),
    *_key_columns("month"),
    sa.Column("band", sa.SmallInteger, primary_key=True),
    sa.Column("count", sa.Integer, nullable=False, server_default="0"),
    sqlite_with_rowid=False,
)
