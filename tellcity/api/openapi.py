"""The OpenAPI 3.1 document of /api/v1, served at /api/v1/openapi.json and shown at
/api/v1/docs: the bodies are the marshmallow schemas of tellcity.reports.schemas (through
apispec's marshmallow plugin), the paths are written out here, one per view of
tellcity.api.views. A change to a view's parameters or answers belongs here too: the tests run
schemathesis against the document to catch the two drifting apart."""

import functools
from importlib.metadata import PackageNotFoundError, version

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import fields

from tellcity.reports.schemas import (
    CategorySchema,
    CreatedReportSchema,
    NearbyReportSchema,
    PublicReportSchema,
    ReportInputSchema,
)

OPENAPI_VERSION = "3.1.0"

STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
URL = {"type": "string", "format": "uri"}
DATETIME = {"type": "string", "format": "date-time"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def array(items: dict) -> dict:
    return {"type": "array", "items": items}


#: Parts of the schemas' computed fields (fields.Function), which marshmallow cannot type.
COMPONENTS = {
    "Photo": {
        "type": "object",
        "properties": {"url": URL, "thumbnail_url": URL, "width": INTEGER, "height": INTEGER},
        "required": ["url", "thumbnail_url", "width", "height"],
    },
    "TimelineEntry": {
        "type": "object",
        "description": "A public step of a report: a status change, a reply, a comment...",
        "properties": {
            "type": STRING,
            "status": {**NULLABLE_STRING, "description": "the new status, for status changes"},
            "text": {
                **STRING,
                "description": "what the city or the reporter wrote; else what TellCity says of"
                " the step (a merge, the original of a duplicate), in the request's language",
            },
            "at": DATETIME,
        },
        "required": ["type", "status", "text", "at"],
    },
    "CategoryRef": {
        "type": "object",
        "properties": {"code": STRING, "name": STRING},
        "required": ["code", "name"],
    },
    "Answer": {
        "type": "object",
        "description": "An answer to one of the category's questions (its attributes).",
        "properties": {
            "code": STRING,
            "question": STRING,
            "value": {
                "description": "as stored: a key of the list, text, a number or a date; a"
                " list of keys for a question taking several",
                "type": ["string", "number", "array"],
            },
            "text": {**STRING, "description": "the value as a person reads it"},
        },
        "required": ["code", "question", "value", "text"],
    },
    "Place": {
        "type": "object",
        "properties": {"lat": NUMBER, "lon": NUMBER, "label": STRING},
        "required": ["lat", "lon", "label"],
    },
    "SupportCount": {
        "type": "object",
        "properties": {"counted": {"type": "boolean"}, "support_count": INTEGER},
        "required": ["counted", "support_count"],
    },
    "Error": {
        "type": "object",
        "description": "What went wrong, in the same shape for every error under /api/v1: a"
        " code (a word a program can test), a message, and for invalid input the messages of"
        " each field at fault.",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "code": STRING,
                    "message": STRING,
                    "fields": {
                        "type": "object",
                        "additionalProperties": {"type": ["array", "object", "string"]},
                    },
                },
                "required": ["code", "message"],
            }
        },
        "required": ["error"],
    },
}

#: The type of each computed field, by schema class and field name.
COMPUTED_FIELDS = {
    "CategorySchema": {"name": STRING, "group": STRING, "description": STRING},
    "PublicReportSchema": {
        "status_label": STRING,
        "open311_status": {"type": "string", "enum": ["open", "closed"]},
        "category": ref("CategoryRef"),
        "department": STRING,
        "description": {**STRING, "description": "contact details in it are masked"},
        "answers": array(ref("Answer")),
        "photos": array(ref("Photo")),
        "timeline": array(ref("TimelineEntry")),
        "url": URL,
    },
    "CreatedReportSchema": {
        "department": STRING,
        "url": URL,
        "tracking_url": {**URL, "description": "the reporter's private page: give it to them"},
    },
    "NearbyReportSchema": {
        "reference": STRING,
        "status": STRING,
        "category": STRING,
        "description": STRING,
        "distance_m": INTEGER,
        "support_count": INTEGER,
        "created_at": DATETIME,
        "photo": {"anyOf": [ref("Photo"), {"type": "null"}]},
        "url": URL,
    },
}

SCHEMAS = {
    "Category": CategorySchema,
    "PublicReport": PublicReportSchema,
    "CreatedReport": CreatedReportSchema,
    "NearbyReport": NearbyReportSchema,
    "ReportInput": ReportInputSchema,
}


def computed_field_types(self, field: fields.Field, **kwargs) -> dict:
    """apispec attribute function: the declared type of a computed field."""
    if not isinstance(field, fields.Function | fields.Method):
        return {}
    return dict(COMPUTED_FIELDS.get(type(field.parent).__name__, {}).get(field.name, {}))


def _json(schema: dict | str) -> dict:
    return {"application/json": {"schema": ref(schema) if isinstance(schema, str) else schema}}


def answer(description: str, schema: dict | str = "Error") -> dict:
    return {"description": description, "content": _json(schema)}


def query(name: str, schema: dict, description: str, required: bool = False) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": description,
    }


NO_CITY = answer("no city is configured here yet")
RATE_LIMITED = answer("too many requests from this address (or API key): wait and try again")
LATITUDE = {"type": "number", "minimum": -90, "maximum": 90}
LONGITUDE = {"type": "number", "minimum": -180, "maximum": 180}
REFERENCE = {
    "name": "reference",
    "in": "path",
    "required": True,
    "schema": STRING,
    "description": "the report's public reference, e.g. ISS-2026-000123",
}
SUPPORTER = {
    "type": "object",
    "properties": {
        "supporter": {
            "type": "string",
            "minLength": 8,
            "maxLength": 200,
            "description": "a stable id of the app's install: a report is supported once by each",
        }
    },
    "required": ["supporter"],
}
REPORT_MULTIPART = {
    "type": "object",
    "description": "the fields of ReportInput (except attributes), and up to 3 photos",
    "properties": {
        **{
            name: {"type": "string"}
            for name in ("kind", "category", "address", "description", "name", "email", "phone")
        },
        "lat": LATITUDE,
        "lon": LONGITUDE,
        "photos": array({"type": "string", "format": "binary"}),
    },
    "required": ["category"],
}

PATHS: dict[str, dict] = {
    "/api/v1/categories": {
        "get": {
            "operationId": "listCategories",
            "summary": "The city's categories",
            "description": "Active problem categories and suggestion themes, in the language of"
            " Accept-Language (French or English), with their extra questions.",
            "responses": {
                "200": answer(
                    "the categories",
                    {
                        "type": "object",
                        "properties": {"categories": array(ref("Category"))},
                        "required": ["categories"],
                    },
                ),
                "404": NO_CITY,
            },
        }
    },
    "/api/v1/reports": {
        "post": {
            "operationId": "createReport",
            "summary": "Report a problem or suggest an idea",
            "description": "JSON, or multipart with up to 3 photos. An Idempotency-Key header"
            " makes a retry answer like the first attempt instead of making a second report"
            " (even sent at the same moment as it): 200 with the first answer's body and"
            " `Idempotent-Replayed: true`, where the first was 201."
            " The answer's tracking_url is for the reporter only."
            " A program may send its API key (X-Api-Key, or Authorization: Bearer): its"
            " reports are then counted against the key's budget, not the public's per"
            " address, and named after the key in the report's history.",
            "parameters": [
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "maxLength": 100},
                    "description": "any string unique to this submission",
                },
                {
                    "name": "X-Api-Key",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "maxLength": 200},
                    "description": "the program's API key (optional)",
                },
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": ref("ReportInput")},
                    "multipart/form-data": {"schema": REPORT_MULTIPART},
                },
            },
            "responses": {
                "201": answer("the report is made", "CreatedReport"),
                "200": {
                    **answer(
                        "a retry with the Idempotency-Key of a report made before: the first"
                        " answer again",
                        "CreatedReport",
                    ),
                    "headers": {
                        "Idempotent-Replayed": {
                            "description": "the report was made by an earlier request",
                            "schema": {"type": "string", "enum": ["true"]},
                        }
                    },
                },
                "401": answer("the API key sent is not valid (`invalid_api_key`)"),
                "403": answer("the API key sent may not send reports to this city"),
                "404": NO_CITY,
                "413": answer("the request is too large"),
                "422": answer("invalid input: `error.fields` names each field at fault"),
                "429": RATE_LIMITED,
            },
        }
    },
    "/api/v1/reports/nearby": {
        "get": {
            "operationId": "nearbyReports",
            "summary": "Open reports near a place",
            "description": "Open public reports filed recently within the radius, nearest"
            ' first: to offer a "me too" before reporting the same problem again.',
            "parameters": [
                query("lat", LATITUDE, "latitude (WGS84)", required=True),
                query("lon", LONGITUDE, "longitude (WGS84)", required=True),
                query("category", STRING, "only reports of this category (its code)"),
                query(
                    "radius_m",
                    {"type": "number", "minimum": 0, "maximum": 1000},
                    "how far to look, in metres (default 150, at most 1000)",
                ),
            ],
            "responses": {
                "200": answer(
                    "the reports found",
                    {
                        "type": "object",
                        "properties": {"reports": array(ref("NearbyReport"))},
                        "required": ["reports"],
                    },
                ),
                "400": answer("lat or lon is missing, not a number, or out of range"),
                "404": NO_CITY,
                "422": answer("unknown category"),
            },
        }
    },
    "/api/v1/reports/{reference}": {
        "get": {
            "operationId": "showReport",
            "summary": "A public report",
            "description": "Its public view: never its reporter's name or contact details.",
            "parameters": [REFERENCE],
            "responses": {
                "200": answer("the report", "PublicReport"),
                "404": answer("no public report with this reference"),
            },
        }
    },
    "/api/v1/reports/{reference}/support": {
        "post": {
            "operationId": "supportReport",
            "summary": '"Me too" on a problem, or a vote for an idea',
            "parameters": [REFERENCE],
            "requestBody": {"required": True, "content": _json(SUPPORTER)},
            "responses": {
                "200": answer("this supporter had already supported it", "SupportCount"),
                "201": answer("the support is counted", "SupportCount"),
                "404": answer("no public report with this reference"),
                "413": answer("the JSON body is larger than 1 MB"),
                "422": answer("no supporter id, or the report is closed"),
                "429": RATE_LIMITED,
            },
        }
    },
    "/api/v1/geocode": {
        "get": {
            "operationId": "geocode",
            "summary": "Addresses in the city",
            "parameters": [
                query(
                    "q",
                    {"type": "string", "minLength": 3, "maxLength": 200},
                    "what the resident typed",
                    required=True,
                )
            ],
            "responses": {
                "200": answer(
                    "places in the city matching q, best first; `available` is false when the"
                    " address service could not be reached",
                    {
                        "type": "object",
                        "properties": {
                            "available": {"type": "boolean"},
                            "places": array(ref("Place")),
                        },
                        "required": ["available", "places"],
                    },
                ),
                "400": answer("q is missing, or shorter than 3 or longer than 200 characters"),
                "404": NO_CITY,
            },
        }
    },
    "/api/v1/geocode/reverse": {
        "get": {
            "operationId": "reverseGeocode",
            "summary": "The address of a position",
            "parameters": [
                query("lat", LATITUDE, "latitude (WGS84)", required=True),
                query("lon", LONGITUDE, "longitude (WGS84)", required=True),
            ],
            "responses": {
                "200": answer(
                    "the address, or null when none is known or the service is unreachable",
                    {
                        "type": "object",
                        "properties": {"address": NULLABLE_STRING},
                        "required": ["address"],
                    },
                ),
                "400": answer("lat or lon is missing, not a number, or out of range"),
            },
        }
    },
    "/api/v1/photos/gps": {
        "post": {
            "operationId": "photoPosition",
            "summary": "Where a photo was taken",
            "description": "The position in the photo's EXIF, to offer it for the pin. The photo"
            " is not kept.",
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {"photo": {"type": "string", "format": "binary"}},
                            "required": ["photo"],
                        }
                    }
                },
            },
            "responses": {
                "200": answer(
                    "the position, or null when the photo has none (or is not a photo)",
                    {
                        "type": "object",
                        "properties": {
                            "position": {
                                "anyOf": [
                                    {
                                        "type": "object",
                                        "properties": {"lat": NUMBER, "lon": NUMBER},
                                        "required": ["lat", "lon"],
                                    },
                                    {"type": "null"},
                                ]
                            }
                        },
                        "required": ["position"],
                    },
                ),
                "400": answer("no photo sent"),
                "413": answer("the request is too large"),
                "429": RATE_LIMITED,
            },
        }
    },
}


def _version() -> str:
    try:
        return version("tellcity")
    except PackageNotFoundError:  # running from a checkout that was not installed
        return "0"


@functools.cache
def openapi_document() -> dict:
    """The OpenAPI document of /api/v1, as a dict (built once per process)."""
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title="TellCity API",
        version=_version(),
        openapi_version=OPENAPI_VERSION,
        plugins=[plugin],
        info={
            "description": 'The resident flow for apps: categories, reports, "me too",'
            " nearby reports, address search. Reads and writes of the city the server serves."
            " Open311 GeoReport v2 is under /open311/v2/ (see /open311/discovery.json)."
        },
    )
    plugin.converter.add_attribute_function(computed_field_types)
    for name, component in COMPONENTS.items():
        spec.components.schema(name, component)
    for name, schema in SCHEMAS.items():
        spec.components.schema(name, schema=schema)
    for path, operations in PATHS.items():
        spec.path(path=path, operations=_with_malformed(operations))
    return spec.to_dict()


#: Any operation may be refused before its view runs (tellcity.core.security).
MALFORMED = (
    "a parameter or the JSON body holds a NUL byte (`error.code` nul_byte) or text that is not"
    " Unicode (invalid_text), the JSON body is nested deeper than 32 levels (too_deep), or the"
    " request cannot be read"
)


def _with_malformed(operations: dict) -> dict:
    """Every operation documents the 400 of a malformed request."""
    return {
        method: {**operation, "responses": {"400": answer(MALFORMED), **operation["responses"]}}
        for method, operation in operations.items()
    }


def describe(schema: dict) -> str:
    """A schema in a few words, for the docs page: "string (date-time) or null", "array of
    Photo"."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(describe(option) for option in schema["anyOf"])
    kinds = schema.get("type", "any")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    words = []
    for kind in kinds:
        if kind == "array":
            words.append(f"array of {describe(schema.get('items', {}))}")
        elif kind == "string" and "format" in schema:
            words.append(f"string ({schema['format']})")
        else:
            words.append(kind)
    text = " or ".join(words)
    if "enum" in schema:
        text += ": " + ", ".join(str(value) for value in schema["enum"])
    return text
