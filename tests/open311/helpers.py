"""Reading Open311 answers the way a client does: JSON checked against the Open311 project's
JSON Schemas, XML parsed with ElementTree and checked against the spec's element names."""

import json
import xml.etree.ElementTree as ET
from datetime import datetime
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tellcity.accounts.api_keys import create_api_key
from tellcity.admin.access import CLI
from tellcity.extensions import db
from tests.reports.helpers import TOWN_HALL

SCHEMAS = Path(__file__).resolve().parent / "schemas"
JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>'

#: The elements the spec names in each document, and those it requires.
SERVICE_FIELDS = {
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
}
ATTRIBUTE_FIELDS = {
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
    "values",
}
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}
UPDATE_FIELDS = {
    "update_id",
    "service_request_id",
    "status",
    "updated_datetime",
    "description",
    "media_url",
    "extended_status",
}
DATETIME_FIELDS = {"requested_datetime", "updated_datetime", "expected_datetime"}

#: A valid request: a pothole in front of the town hall.
POTHOLE = {
    "service_code": "pothole",
    "lat": str(TOWN_HALL[0]),
    "long": str(TOWN_HALL[1]),
    "description": "Un trou profond devant la mairie",
}


@cache
def _registry() -> Registry:
    resources = [
        (path.name, Resource.from_contents(json.loads(path.read_text()), DRAFT202012))
        for path in SCHEMAS.glob("*.json")
    ]
    return Registry().with_resources(resources)


def assert_valid(schema_file: str, data) -> None:
    """`data` follows the Open311 project's schema `schema_file` (e.g. "requests.json"), its
    datetimes are W3C with an offset and its URLs absolute."""
    schema = json.loads((SCHEMAS / schema_file).read_text())
    Draft202012Validator(schema, registry=_registry()).validate(data)
    for item in data if isinstance(data, list) else [data]:
        for field in DATETIME_FIELDS & set(item):
            if item[field] is not None:
                assert_w3c(item[field])
        if item.get("media_url"):
            assert_absolute_url(item["media_url"])


def assert_w3c(value: str) -> datetime:
    """A W3C datetime with its offset (the spec requires one)."""
    moment = datetime.fromisoformat(value)
    assert moment.tzinfo is not None and "T" in value, value
    return moment


def assert_absolute_url(value: str) -> None:
    parts = urlsplit(value)
    assert parts.scheme in ("http", "https") and parts.netloc, value


def json_of(response, status: int = 200):
    assert response.status_code == status, response.data
    assert response.headers["Content-Type"] == JSON_TYPE
    return response.get_json()


def xml_of(response, status: int = 200) -> ET.Element:
    """The document element of an XML answer, after checking its type and declaration."""
    assert response.status_code == status, response.data
    assert response.headers["Content-Type"] == XML_TYPE
    assert response.data.startswith(XML_DECLARATION)
    return ET.fromstring(response.data)


def children(element: ET.Element) -> dict[str, str | None]:
    """An element's children by tag: their text (None when empty)."""
    return {child.tag: child.text for child in element}


def new_key(city=None, name: str = "Appli test") -> str:
    """A key for an Open311 client, committed."""
    _row, key = create_api_key(name, city=city, actor=CLI)
    db.session.commit()
    return key


def post(client, key: str | None, fmt: str = "json", data: dict | None = None, **kwargs):
    """POST requests.{fmt} with the key in the form body."""
    form = {**(data if data is not None else POTHOLE)}
    if key is not None:
        form["api_key"] = key
    return client.post(f"/open311/v2/requests.{fmt}", data=form, **kwargs)
