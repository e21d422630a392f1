"""Where a point is: inside the city or not, and in which zone.

Each process keeps the city's boundary and zones as prepared shapely geometries, in the app's
registry of what is kept per city (tellcity.core.caches): rebuilt when the city's
`config_version` changes, which any change to the city or its zones does.
"""

from dataclasses import dataclass

import shapely
import sqlalchemy as sa
from shapely import prepare
from shapely.geometry import shape
from sqlalchemy.orm import object_session

from tellcity.cities.models import City, Zone
from tellcity.core.caches import caches
from tellcity.extensions import db


@dataclass(frozen=True)
class _PreparedZone:
    zone_id: int
    bbox: tuple[float, float, float, float]  # min_lon, min_lat, max_lon, max_lat
    geometry: object


@dataclass(frozen=True)
class _CityShapes:
    boundary: object
    zones: tuple[_PreparedZone, ...]


def _shapes(city: City) -> _CityShapes:
    session = object_session(city)
    if session is None:
        session = db.session()
    return caches(session).get(
        session, "shapes", city.id, city.config_version, lambda is_kept: _build(city)
    )


def _build(city: City) -> _CityShapes:
    boundary = shape(city.boundary)
    prepare(boundary)
    zones = []
    rows = db.session.execute(
        sa.select(Zone.id, Zone.boundary).where(Zone.city_id == city.id).order_by(Zone.id)
    )
    for zone_id, geojson in rows:
        geometry = shape(geojson)
        prepare(geometry)
        zones.append(_PreparedZone(zone_id, geometry.bounds, geometry))
    return _CityShapes(boundary, tuple(zones))


def is_inside(city: City, lat: float, lon: float) -> bool:
    """Whether the point is inside the city limits (a point on the limit counts as inside)."""
    # For a point, intersecting a polygon is being covered by it, edge included; the _xy form
    # takes the coordinates as they are, without making a Point (the dearer half of it).
    return bool(shapely.intersects_xy(_shapes(city).boundary, lon, lat))


def zone_id_at(city: City, lat: float, lon: float) -> int | None:
    """The id of the zone the point is in; on a border between zones, the zone with the lowest
    id, so the answer is always the same. None outside every zone."""
    for zone in _shapes(city).zones:
        min_lon, min_lat, max_lon, max_lat = zone.bbox
        if (
            min_lon <= lon <= max_lon
            and min_lat <= lat <= max_lat
            and shapely.intersects_xy(zone.geometry, lon, lat)
        ):
            return zone.zone_id
    return None
