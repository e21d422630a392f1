import copy
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tellcity.core.db import Json, UTCDateTime, utcnow
from tellcity.extensions import db

#: Weekday (0 = Monday) → list of [opening, closing] local times, "HH:MM".
DEFAULT_BUSINESS_HOURS = {str(day): [["08:30", "17:30"]] for day in range(5)}


class City(db.Model):
    """A city served by this deployment; its slug is the Open311 jurisdiction_id."""

    __tablename__ = "cities"
    __table_args__ = (
        sa.CheckConstraint("center_lat BETWEEN -90 AND 90", name="center_lat_range"),
        sa.CheckConstraint("center_lon BETWEEN -180 AND 180", name="center_lon_range"),
        sa.CheckConstraint("default_zoom BETWEEN 0 AND 22", name="default_zoom_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    insee_code: Mapped[str | None] = mapped_column(sa.String(10))
    #: Prefix of the public references of its reports, e.g. ISS in ISS-2026-000123.
    reference_prefix: Mapped[str] = mapped_column(sa.String(8), unique=True)
    #: GeoJSON geometry (Polygon or MultiPolygon) of the city limits. Loaded when first read:
    #: most requests load the city and never look at its limits.
    boundary: Mapped[dict] = mapped_column(Json, deferred=True)
    center_lat: Mapped[float] = mapped_column(sa.Float)
    center_lon: Mapped[float] = mapped_column(sa.Float)
    default_zoom: Mapped[int] = mapped_column(sa.SmallInteger, default=14)
    timezone: Mapped[str] = mapped_column(sa.String(64), default="Europe/Paris")
    locale: Mapped[str] = mapped_column(sa.String(10), default="fr")
    #: Country (and optional subdivision) of the `holidays` package's calendar.
    holiday_country: Mapped[str | None] = mapped_column(sa.String(2), default="FR")
    holiday_subdivision: Mapped[str | None] = mapped_column(sa.String(10))
    business_hours: Mapped[dict] = mapped_column(
        Json, default=lambda: copy.deepcopy(DEFAULT_BUSINESS_HOURS)
    )
    #: The version of the city's configuration: bumped in the transaction that changes the city
    #: row, one of its zones, categories, departments or routing rules, so that what each
    #: process keeps of them (its copy of the city, the zones' prepared shapes, the routing
    #: configuration) is rebuilt when it next reads the city (see tellcity.core.caches).
    config_version: Mapped[int] = mapped_column(default=1)
    #: Every member of staff of the city signs in with a second factor (administrators always
    #: do: tellcity.accounts.two_factor).
    staff_2fa_required: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: Created by an import of another city's 311 data, not configured by hand.
    is_imported: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    zones: Mapped[list["Zone"]] = relationship(
        back_populates="city", order_by="Zone.name", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<City {self.slug}>"


class Zone(db.Model):
    """A neighbourhood inside a city, for routing and per-capita figures."""

    __tablename__ = "zones"
    __table_args__ = (
        sa.UniqueConstraint("city_id", "slug"),
        sa.CheckConstraint("population IS NULL OR population >= 0", name="population_positive"),
        sa.CheckConstraint(
            "min_lat <= max_lat AND min_lon <= max_lon AND min_lat >= -90 AND max_lat <= 90 "
            "AND min_lon >= -180 AND max_lon <= 180",
            name="bbox_valid",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("cities.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(200))
    population: Mapped[int | None]
    #: GeoJSON geometry of the zone, and its bounding box for a cheap first filter.
    boundary: Mapped[dict] = mapped_column(Json)
    min_lat: Mapped[float] = mapped_column(sa.Float)
    min_lon: Mapped[float] = mapped_column(sa.Float)
    max_lat: Mapped[float] = mapped_column(sa.Float)
    max_lon: Mapped[float] = mapped_column(sa.Float)

    city: Mapped[City] = relationship(back_populates="zones")

    def __repr__(self) -> str:
        return f"<Zone {self.slug} of city {self.city_id}>"
