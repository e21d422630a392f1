"""GeoJSON geometries: bounding boxes, and cutting a city into sectors."""

import json

import shapely
from shapely.geometry import MultiPoint, Point, shape


def to_geojson(geometry) -> dict:
    """A plain-JSON GeoJSON geometry (lists, not tuples) of a shapely geometry."""
    return json.loads(shapely.to_geojson(geometry))


def bbox(geometry: dict) -> tuple[float, float, float, float]:
    """(min_lat, min_lon, max_lat, max_lon) of a GeoJSON geometry."""
    min_lon, min_lat, max_lon, max_lat = shape(geometry).bounds
    return min_lat, min_lon, max_lat, max_lon


def voronoi_sectors(boundary: dict, seeds: list[tuple[float, float]]) -> list[dict]:
    """Cut the GeoJSON `boundary` into one sector per (lon, lat) seed: the part of the city
    nearer that seed than any other, so the sectors cover the boundary and do not overlap.

    Returns GeoJSON geometries in the order of `seeds`. Raises ValueError for a seed outside the
    boundary.
    """
    area = shape(boundary)
    points = [Point(seed) for seed in seeds]
    for seed, point in zip(seeds, points, strict=True):
        if not area.contains(point):
            raise ValueError(f"seed {seed} is outside the boundary")
    cells = shapely.voronoi_polygons(MultiPoint(points), extend_to=area.envelope.buffer(1.0))
    return [
        to_geojson(next(cell for cell in cells.geoms if cell.contains(point)).intersection(area))
        for point in points
    ]
