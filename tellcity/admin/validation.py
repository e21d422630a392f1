"""Checking what an administrator types or uploads: a choice among the city's rows, a
category's extra questions (Open311 attribute definitions) and zones in a GeoJSON file. Each
refusal is an Invalid whose message says which question or which feature is wrong, and why."""

import json
import re
from dataclasses import dataclass

import shapely
from flask_babel import gettext as _
from shapely.errors import GEOSException
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from tellcity.core.errors import Invalid
from tellcity.extensions import db


def row_in_city(model, row_id: int | None, city_id: int | None, field: str):
    """The `model` row `row_id` of the city, or Invalid on `field`."""
    row = db.session.get(model, row_id) if row_id is not None else None
    if row is None or row.city_id != city_id:
        raise Invalid(_("Choose one of the list."), field=field)
    return row


# --- Extra questions -------------------------------------------------------------------------

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
LIST_DATATYPES = ("singlevaluelist", "multivaluelist")
ATTRIBUTE_KEYS = (
    "code",
    "variable",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
    "values",
)
ATTRIBUTE_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def check_attributes(attributes: object) -> list[dict]:
    """A category's extra questions, checked against the shape of Open311 attribute
    definitions and tidied: `required` defaults to false, `order` to the question's rank,
    an empty `datatype_description` is left out, `values` are kept for list questions only;
    sorted by `order`. (`variable`, false for a note that asks nothing, is kept when given.)

    Raises Invalid (field "attributes") naming the question at fault.
    """
    if attributes is None:
        return []
    if not isinstance(attributes, list):
        raise _bad_attributes(_("Write a list of questions: [{...}, {...}]."))
    checked = [_attribute(item, number) for number, item in enumerate(attributes, start=1)]
    codes = [attribute["code"] for attribute in checked]
    for code in codes:
        if codes.count(code) > 1:
            raise _bad_attributes(_("Two questions have the code %(code)s.", code=code))
    return sorted(checked, key=lambda attribute: attribute["order"])


def _bad_attributes(message: str) -> Invalid:
    return Invalid(message, field="attributes")


def _attribute(item: object, number: int) -> dict:
    """One question, checked and tidied; `number` is its rank in the list, from 1."""
    if not isinstance(item, dict):
        raise _bad_attributes(_("Question %(number)s: write an object {...}.", number=number))
    code = item.get("code")
    where = _("Question %(number)s (%(code)s)", number=number, code=code) if code else None
    where = where or _("Question %(number)s", number=number)
    _check_keys(item, where)
    attribute = {
        "code": _code(code, where),
        "datatype": _datatype(item.get("datatype"), where),
        "required": _boolean(item.get("required", False), where, "required"),
        "order": _order(item.get("order", number), where),
        "description": _text(item.get("description"), where, "description", required=True),
    }
    if "variable" in item:
        attribute["variable"] = _boolean(item["variable"], where, "variable")
    explained = _text(item.get("datatype_description", ""), where, "datatype_description")
    if explained:
        attribute["datatype_description"] = explained
    if attribute["datatype"] in LIST_DATATYPES:
        attribute["values"] = _values(item.get("values"), where)
    elif item.get("values"):
        raise _bad_attributes(
            _(
                "%(where)s: only list questions (singlevaluelist, multivaluelist) have values.",
                where=where,
            )
        )
    return attribute


def _check_keys(item: dict, where: str) -> None:
    unknown = sorted(set(item) - set(ATTRIBUTE_KEYS))
    if unknown:
        raise _bad_attributes(
            _(
                "%(where)s: unknown key %(key)s (known keys: %(allowed)s).",
                where=where,
                key=unknown[0],
                allowed=", ".join(ATTRIBUTE_KEYS),
            )
        )


def _code(code: object, where: str) -> str:
    if not isinstance(code, str) or not ATTRIBUTE_CODE.match(code):
        raise _bad_attributes(
            _("%(where)s: give a code of letters, digits, _ or - (at most 64).", where=where)
        )
    return code


def _datatype(datatype: object, where: str) -> str:
    if datatype not in DATATYPES:
        raise _bad_attributes(
            _(
                "%(where)s: datatype must be one of %(types)s.",
                where=where,
                types=", ".join(DATATYPES),
            )
        )
    return datatype


def _boolean(value: object, where: str, key: str) -> bool:
    if not isinstance(value, bool):
        raise _bad_attributes(_("%(where)s: %(key)s must be true or false.", where=where, key=key))
    return value


def _text(value: object, where: str, key: str, *, required: bool = False) -> str:
    if not isinstance(value, str) or (required and not value.strip()):
        message = (
            _("%(where)s: give a %(key)s (text).", where=where, key=key)
            if required
            else _("%(where)s: %(key)s must be text.", where=where, key=key)
        )
        raise _bad_attributes(message)
    return value.strip()


def _order(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _bad_attributes(_("%(where)s: order must be a whole number from 1.", where=where))
    return value


def _values(values: object, where: str) -> list[dict]:
    """The choices of a list question: a non-empty list of {"key": ..., "name": ...}."""
    if not isinstance(values, list) or not values:
        raise _bad_attributes(
            _(
                '%(where)s: a list question needs values: [{"key": "...", "name": "..."}].',
                where=where,
            )
        )
    checked = []
    for value in values:
        key = value.get("key") if isinstance(value, dict) else None
        name = value.get("name") if isinstance(value, dict) else None
        if (
            not isinstance(value, dict)
            or set(value) - {"key", "name"}
            or not isinstance(key, str)
            or not key.strip()
            or not isinstance(name, str)
            or not name.strip()
        ):
            raise _bad_attributes(
                _('%(where)s: each value is {"key": "...", "name": "..."}, both text.', where=where)
            )
        checked.append({"key": key.strip(), "name": name.strip()})
    keys = [value["key"] for value in checked]
    duplicate = next((key for key in keys if keys.count(key) > 1), None)
    if duplicate is not None:
        raise _bad_attributes(
            _("%(where)s: two values have the key %(key)s.", where=where, key=duplicate)
        )
    return checked


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
        document = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise _bad_file(_("The file is not UTF-8 text.")) from None
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
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
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
