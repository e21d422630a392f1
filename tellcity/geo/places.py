"""Where a point is: inside the city or not, and in which zone.

Each process keeps the city's boundary and zones as prepared shapely geometries, keyed by the
city's `config_version`, which a session hook bumps whenever the city (its boundary or any
other column) or one of its zones changes; every process sees the new version with the city
row and rebuilds. (The copy of the city row each process keeps, tellcity.cities.queries, is
keyed by the same version.)
"""

from dataclasses import dataclass

import shapely
import sqlalchemy as sa
from shapely import prepare
from shapely.geometry import shape
from sqlalchemy import event
from sqlalchemy.orm import Session

from tellcity.cities import queries as city_queries
from tellcity.cities.models import City, Zone
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


_cache: dict[tuple[int, int], _CityShapes] = {}


def _shapes(city: City) -> _CityShapes:
    key = (city.id, city.config_version)
    shapes = _cache.get(key)
    if shapes is None:
        for stale in [k for k in _cache if k[0] == city.id]:
            del _cache[stale]
        shapes = _cache[key] = _build(city)
    return shapes


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


@event.listens_for(Session, "before_flush")
def _bump_config_version(session, flush_context, instances):
    """A changed city or zone makes every process rebuild its prepared shapes, and reload its
    copy of the city."""
    cities: set[City] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Zone):
            city = obj.city or session.get(City, obj.city_id)
            if city is not None and not (obj in session.dirty and not _changed(session, obj)):
                cities.add(city)
        elif isinstance(obj, City) and (obj not in session.dirty or _changed(session, obj)):
            session.info[city_queries.CHANGED] = True
            if obj in session.dirty:
                cities.add(obj)
    for city in cities:
        if city not in session.new:
            city.config_version = City.config_version + 1


def _changed(session: Session, obj: City | Zone) -> bool:
    return session.is_modified(obj, include_collections=False)
