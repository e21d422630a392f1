"""Checking what an administrator types or uploads: a choice among the city's rows and zones in
a GeoJSON file. Each refusal is an Invalid whose message says which feature is wrong, and why.
(A category's questions are checked by tellcity.categories.questions.check_attributes.)"""

import json
from dataclasses import dataclass

import shapely
from flask_babel import gettext as _
from shapely.errors import GEOSException
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from tellcity.core.bodies import load_json
from tellcity.core.errors import Invalid, Malformed
from tellcity.core.params import MAX_INTEGER
from tellcity.extensions import db


def row_in_city(model, row_id: int | None, city_id: int | None, field: str):
    """The `model` row `row_id` of the city, or Invalid on `field`."""
    row = db.session.get(model, row_id) if row_id is not None else None
    if row is None or row.city_id != city_id:
        raise Invalid(_("Choose one of the list."), field=field)
    return row


# --- Zones -----------------------------------------------------------------------------------

#: How far (in degrees, about 10 cm) a zone may stray outside the city limits: the edges of a
#: zone cut from the boundary by another program rarely fall exactly on it.
BOUNDARY_TOLERANCE = 1e-6
#: Overlaps smaller than this (in square degrees, well under a square metre) are rounding noise
#: along a shared edge, not an overlap.
OVERLAP_TOLERANCE = 1e-10
MAX_ZONE_FILE_BYTES = 10 * 1024 * 1024
MAX_ZONES = 500
GEOMETRY_TYPES = ("Polygon", "MultiPolygon")


@dataclass(frozen=True)
class ZoneShape:
    """One zone read from an uploaded file: its rank in the file (from 1), name, population
    and geometry (shapely, two-dimensional)."""

    number: int
    name: str
    population: int | None
    geometry: BaseGeometry

    @property
    def label(self) -> str:
        return _("Feature %(number)s (%(name)s)", number=self.number, name=self.name)


def read_zone_file(raw: bytes) -> list[ZoneShape]:
    """The zones of a GeoJSON file: a Feature, or a FeatureCollection, of Polygon or
    MultiPolygon features, each with a `name` property and an optional `population`.

    Raises Invalid (field "file") saying which feature is wrong and why. Checks each geometry
    on its own (valid, not empty); `check_zone_layout` checks them against the city.
    """
    if len(raw) > MAX_ZONE_FILE_BYTES:
        raise _bad_file(_("The file is too large (at most 10 MB)."))
    try:
        document = load_json(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise _bad_file(_("The file is not UTF-8 text.")) from None
    except Malformed as error:  # nested too deep, or a NUL
        raise _bad_file(error.message) from None
    except json.JSONDecodeError as error:
        raise _bad_file(
            _(
                "The file is not valid JSON: %(error)s (line %(line)s).",
                error=error.msg,
                line=error.lineno,
            )
        ) from None
    features = _features(document)
    return [_zone_shape(feature, number) for number, feature in enumerate(features, start=1)]


def _bad_file(message: str) -> Invalid:
    return Invalid(message, field="file")


def _features(document: object) -> list:
    kind = document.get("type") if isinstance(document, dict) else None
    if kind == "Feature":
        return [document]
    if kind != "FeatureCollection":
        raise _bad_file(_("The file must hold a GeoJSON Feature or FeatureCollection."))
    features = document.get("features")
    if not isinstance(features, list) or not features:
        raise _bad_file(_("The FeatureCollection has no features."))
    if len(features) > MAX_ZONES:
        raise _bad_file(_("Too many features (at most %(count)s).", count=MAX_ZONES))
    return features


def _zone_shape(feature: object, number: int) -> ZoneShape:
    """One feature as a ZoneShape, or Invalid naming it."""
    where = _("Feature %(number)s", number=number)
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise _bad_file(_("%(where)s is not a GeoJSON Feature.", where=where))
    properties = feature.get("properties") or {}
    name = properties.get("name") if isinstance(properties, dict) else None
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 200:
        raise _bad_file(
            _("%(where)s has no name property (text, 200 characters at most).", where=where)
        )
    name = name.strip()
    where = _("Feature %(number)s (%(name)s)", number=number, name=name)
    population = _population(properties.get("population"), where)
    geometry = _geometry(feature.get("geometry"), where)
    return ZoneShape(number, name, population, geometry)


def _population(value: object, where: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INTEGER:
        raise _bad_file(_("%(where)s: population must be a whole number, 0 or more.", where=where))
    return value


def _geometry(geojson: object, where: str) -> BaseGeometry:
    kind = geojson.get("type") if isinstance(geojson, dict) else None
    if kind not in GEOMETRY_TYPES:
        raise _bad_file(
            _("%(where)s: the geometry must be a Polygon or a MultiPolygon.", where=where)
        )
    try:
        geometry = shapely.force_2d(shape(geojson))
    except (ValueError, TypeError, IndexError, AttributeError, GEOSException):
        raise _bad_file(_("%(where)s: its coordinates cannot be read.", where=where)) from None
    if geometry.is_empty:
        raise _bad_file(_("%(where)s: its geometry is empty.", where=where))
    if not geometry.is_valid:
        raise _bad_file(
            _(
                "%(where)s: its polygon is not valid (%(reason)s).",
                where=where,
                reason=explain_validity(geometry),
            )
        )
    return geometry


def check_zone_layout(
    shapes: list[ZoneShape], boundary: dict, existing: list[tuple[str, dict]]
) -> None:
    """Check the new zones against the city: each inside the `boundary` (GeoJSON), none
    overlapping another nor one of the `existing` zones ((name, GeoJSON) pairs), no name used
    twice. Raises Invalid (field "file") naming the feature."""
    city = shape(boundary).buffer(BOUNDARY_TOLERANCE)
    for zone in shapes:
        if not city.covers(zone.geometry):
            raise _bad_file(_("%(where)s goes outside the city limits.", where=zone.label))
    names = {name.casefold(): name for name, _geometry in existing}
    for zone in shapes:
        if zone.name.casefold() in names:
            raise _bad_file(
                _(
                    "%(where)s: there is already a zone named %(name)s.",
                    where=zone.label,
                    name=names[zone.name.casefold()],
                )
            )
        names[zone.name.casefold()] = zone.name
    _check_overlaps(shapes, [(name, shape(geometry)) for name, geometry in existing])


def _check_overlaps(shapes: list[ZoneShape], existing: list[tuple[str, BaseGeometry]]) -> None:
    for index, zone in enumerate(shapes):
        for other in shapes[:index]:
            if _overlap(zone.geometry, other.geometry):
                raise _bad_file(
                    _("%(where)s overlaps %(other)s.", where=zone.label, other=other.label)
                )
        for name, geometry in existing:
            if _overlap(zone.geometry, geometry):
                raise _bad_file(
                    _("%(where)s overlaps the existing zone %(name)s.", where=zone.label, name=name)
                )


def _overlap(a: BaseGeometry, b: BaseGeometry) -> bool:
    return a.intersects(b) and a.intersection(b).area > OVERLAP_TOLERANCE
