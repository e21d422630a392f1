"""What goes in and out of the Open311 GeoReport v2 server, with the spec's field names (they
live only in this package). Output schemas have no field for a reporter's identity or contact:
it cannot leak by accident. Input schemas treat an empty parameter as an absent one."""

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

from flask import url_for
from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from tellcity.categories import questions
from tellcity.core.db import utcnow
from tellcity.core.i18n import iso_local
from tellcity.core.params import float_param
from tellcity.core.text import DEFAULT_REGION, contact_region, mask_contacts, public_text
from tellcity.open311.queries import RequestFilter, RequestRow
from tellcity.reports.history import told_text
from tellcity.reports.models import Report
from tellcity.reports.queries import public_events
from tellcity.reports.schemas import public_answers
from tellcity.reports.states import STATUS_EVENTS, open311_status
from tellcity.reports.submission import DESCRIPTION_MAX

#: The longest span GET requests and servicerequestupdates cover, and their default span.
MAX_SPAN = timedelta(days=90)
MAX_RESULTS = 1000
OPEN311_STATUSES = ("open", "closed")


def w3c(moment: datetime | None, timezone: ZoneInfo) -> str | None:
    """A timestamp as the spec writes it: W3C ISO 8601 to the second, with the offset of
    `timezone` (the city's), e.g. 2026-03-02T09:15:00+01:00."""
    return None if moment is None else iso_local(moment, timezone)


def photo_url(key: str) -> str:
    return url_for("photos.image", key=key, _external=True)


def _in_language(locale: str, french: str, english: str) -> str:
    return english if locale == "en" and english else french


# --- output -----------------------------------------------------------------------------------


class ServiceSchema(Schema):
    """One service of GET services: a category (a Category or a row of its columns)."""

    def __init__(self, *, locale: str = "fr", **kwargs):
        super().__init__(**kwargs)
        self.locale = locale

    service_code = fields.String(attribute="code")
    service_name = fields.Method("_name")
    description = fields.Method("_description")
    metadata = fields.Function(lambda category: bool(category.attributes))
    type = fields.Constant("realtime")
    keywords = fields.Function(lambda category: category.keywords or None)
    group = fields.Method("_group")

    def _name(self, category) -> str:
        return _in_language(self.locale, category.name_fr, category.name_en)

    def _description(self, category) -> str | None:
        text = _in_language(self.locale, category.description_fr, category.description_en)
        return text or None

    def _group(self, category) -> str | None:
        return _in_language(self.locale, category.group_fr, category.group_en) or None


class _Localized(Schema):
    """A schema dumping text in the client's language (`locale`)."""

    def __init__(self, *, locale: str = "fr", **kwargs):
        super().__init__(**kwargs)
        self.locale = locale


class AttributeValueSchema(_Localized):
    key = fields.Function(lambda value: str(value.get("key", "")))
    name = fields.Method("_name")

    def _name(self, value) -> str:
        return questions.in_language(value, "name", self.locale) or str(value.get("key", ""))


class AttributeSchema(_Localized):
    """One extra question of a category, from its stored Open311 attribute definition, with
    the spec's defaults for what the definition leaves out, in the client's language."""

    variable = fields.Function(lambda attribute: bool(attribute.get("variable", True)))
    code = fields.Function(lambda attribute: str(attribute["code"]))
    datatype = fields.Function(questions.datatype)
    required = fields.Function(lambda attribute: bool(attribute.get("required", False)))
    datatype_description = fields.Function(
        lambda attribute: _text_or_none(attribute.get("datatype_description"))
    )
    order = fields.Integer()
    description = fields.Method("_description")
    values = fields.Method("_values")

    def _description(self, attribute) -> str | None:
        return _text_or_none(questions.in_language(attribute, "description", self.locale))

    def _values(self, attribute) -> list[dict]:
        schema = AttributeValueSchema(many=True, locale=self.locale)
        return schema.dump(questions.options(attribute))


def _text_or_none(value) -> str | None:
    return str(value) if value not in (None, "") else None


class ServiceDefinitionSchema(_Localized):
    """GET services/{service_code}: the category's extra questions."""

    service_code = fields.String(attribute="code")
    attributes = fields.Method("_attributes")

    def _attributes(self, category) -> list[dict]:
        schema = AttributeSchema(many=True, locale=self.locale)
        return schema.dump(questions.definitions(category))


def service_requests(
    rows: Sequence[RequestRow],
    *,
    timezone: ZoneInfo,
    locale: str = "fr",
    extended: Mapping[int, Report] | None = None,
    region: str = DEFAULT_REGION,
) -> list[dict]:
    """Public reports as Open311 service requests, in the spec's order of fields. `extended`,
    the reports with their history, photos and zone by id, adds the extended attributes;
    `region` is the city's (tellcity.core.text.contact_region), for masking phone numbers.

    A plain function rather than a marshmallow schema: a page holds a thousand requests, and
    marshmallow's per-field dispatch was half of the page's time. Nothing here reads a
    reporter's identity or contact: RequestRow has none."""
    documents = []
    for row in rows:
        status = open311_status(row.status)
        updated = row.closed_at if status == "closed" and row.closed_at is not None else None
        text = public_text(row, region)
        document = {
            "service_request_id": row.reference,
            "status": status,
            "status_notes": mask_contacts(row.status_note, region) or None,
            "service_name": _in_language(locale, row.name_fr, row.name_en),
            "service_code": row.service_code,
            "description": text.description or None,
            "agency_responsible": row.agency,
            "service_notice": None,
            "requested_datetime": w3c(row.created_at, timezone),
            "updated_datetime": w3c(updated or row.updated_at, timezone),
            "expected_datetime": w3c(row.due_at, timezone),
            "address": text.address or None,
            "address_id": None,
            "zipcode": None,
            "lat": row.lat,
            "long": row.lon,
            "media_url": photo_url(row.photo_key) if row.photo_key else None,
        }
        if extended is not None:
            document.update(_extended(extended[row.id], timezone))
        documents.append(document)
    return documents


def _extended(report: Report, timezone: ZoneInfo) -> dict:
    """The extended attributes of a request: our own status, its zone, the answers to its
    service's questions, support count and photos, and its public history."""
    region = contact_region(report.city)
    return {
        "extended_attributes": {
            "extended_status": report.status,
            "zone": report.zone.name if report.zone else None,
            # The answers to the service's questions, as POSTed in attribute[code].
            "attributes": [
                {
                    "code": answer["code"],
                    "values": answer["value"]
                    if isinstance(answer["value"], list)
                    else [answer["value"]],
                }
                for answer in public_answers(report)
            ],
            "support_count": report.support_count,
            "photos": [
                {
                    "media_url": photo_url(photo.storage_key),
                    "thumbnail_url": url_for(
                        "photos.thumbnail", key=photo.thumbnail_key, _external=True
                    ),
                    "width": photo.width,
                    "height": photo.height,
                    "created_at": w3c(photo.created_at, timezone),
                }
                for photo in report.photos
                if not photo.is_hidden
            ],
        },
        "notes": [
            {
                "datetime": w3c(event.created_at, timezone),
                "type": event.type,
                "status": event.to_value if event.type in STATUS_EVENTS else None,
                "description": mask_contacts(told_text(event), region) or None,
            }
            for event in public_events(report)
        ],
    }


class CreatedRequestSchema(Schema):
    """The answer to POST requests: the request is created at once, so its id, no token."""

    service_request_id = fields.String(attribute="reference")
    service_notice = fields.Constant(None)
    account_id = fields.Constant(None)


class TokenSchema(Schema):
    """GET tokens/{token}: our token is the service_request_id itself."""

    token = fields.Function(lambda report: report.reference)
    service_request_id = fields.String(attribute="reference")


class UpdateSchema(Schema):
    """A request_update of mySociety's servicerequestupdates (tellcity.open311.queries.Update),
    with our own status beside Open311's open or closed."""

    def __init__(self, *, timezone: ZoneInfo, region: str = DEFAULT_REGION, **kwargs):
        super().__init__(**kwargs)
        self.timezone = timezone
        self.region = region

    update_id = fields.Function(lambda update: str(update.event.id))
    service_request_id = fields.String(attribute="reference")
    status = fields.Function(lambda update: open311_status(update.status))
    updated_datetime = fields.Method("_updated")
    description = fields.Method("_description")
    media_url = fields.Function(
        lambda update: photo_url(update.photo_key) if update.photo_key else None
    )
    extended_status = fields.String(attribute="status")

    def _updated(self, update) -> str | None:
        return w3c(update.event.created_at, self.timezone)

    def _description(self, update) -> str:
        return mask_contacts(told_text(update.event), self.region)


def discovery_document(base_url: str, changeset: str, contact: str, key_service: str) -> dict:
    """The service discovery document: one production GeoReport v2 endpoint, both formats."""
    return {
        "changeset": changeset,
        "contact": contact,
        "key_service": key_service,
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": base_url,
                "changeset": changeset,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


# --- input ------------------------------------------------------------------------------------


class ParamsSchema(Schema):
    """Query or form parameters: unknown ones ignored, empty ones absent. A parameter given
    several times is read once, unless it is one of `REPEATABLE`, whose values are joined with
    commas (status=open&status=closed reads as status=open,closed)."""

    REPEATABLE: tuple[str, ...] = ()

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def _flatten(self, params, **kwargs) -> dict:
        getlist = getattr(params, "getlist", None)
        flat = {}
        for name in params:
            if not isinstance(name, str) or name.startswith("attribute["):
                continue
            values = getlist(name) if getlist else [params[name]]
            values = [v.strip() for v in values if isinstance(v, str) and v.strip()]
            if values:
                flat[name] = ",".join(values) if name in self.REPEATABLE else values[0]
        return self.narrow(flat)

    def narrow(self, params: dict) -> dict:
        """The parameters to read, of those given (all of them, unless a schema says)."""
        return params


class W3CDateTime(fields.Field):
    """A W3C datetime with its offset (Z or ±HH:MM), e.g. 2010-01-01T00:00:00Z."""

    #: '+01:00' in a query string that was not encoded arrives as ' 01:00'.
    _UNENCODED_PLUS = re.compile(r" (\d\d:?\d\d)$")

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        text = self._UNENCODED_PLUS.sub(r"+\1", str(value).strip())
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValidationError(
                "not a W3C datetime: write it like 2010-01-01T00:00:00Z"
            ) from None
        if moment.tzinfo is None or "T" not in text.upper():
            raise ValidationError(
                "give a date, a time and an offset, like 2010-01-01T00:00:00Z or"
                " 2010-01-01T00:00:00+01:00"
            )
        return moment


class CommaList(fields.Field):
    """A comma-separated list: its distinct non-empty items, in order."""

    def __init__(self, *, max_items: int = MAX_RESULTS, max_length: int = 64, **kwargs):
        super().__init__(**kwargs)
        self.max_items, self.max_length = max_items, max_length

    def _deserialize(self, value, attr, data, **kwargs) -> tuple[str, ...]:
        items = tuple(dict.fromkeys(item.strip() for item in str(value).split(",")))
        items = tuple(item for item in items if item)
        if len(items) > self.max_items:
            raise ValidationError(f"at most {self.max_items} values")
        if any(len(item) > self.max_length for item in items):
            raise ValidationError(f"values are at most {self.max_length} characters")
        return items


class BoundingBox(fields.Field):
    """An extension (as the public map's markers.json): `bbox=west,south,east,north` in
    degrees, the requests with a position inside it."""

    def _deserialize(self, value, attr, data, **kwargs) -> tuple[float, float, float, float]:
        box = tuple(float_param(part.strip()) for part in str(value).split(","))
        if len(box) != 4 or None in box:
            raise ValidationError("bbox=west,south,east,north in degrees")
        return box


def default_window(now: datetime) -> datetime:
    """Where GET requests starts by default: 90 days before the start of the current hour.
    Within an hour the default question is the same, and so is its answer until a report
    changes (what the ETag of the answer says, tellcity.core.conditional): the window ends
    now, and what it leaves out moves on the hour, not with every request."""
    return now.replace(minute=0, second=0, microsecond=0) - MAX_SPAN


def date_range(start: datetime | None, end: datetime | None, now: datetime) -> tuple:
    """The span to search: the last 90 days by default; 90 days from a start or up to an end
    given alone. Raises ValidationError when the end comes first or the span is longer."""
    if start is None and end is None:
        end = now
    if start is None:
        start = end - MAX_SPAN
    if end is None:
        end = start + MAX_SPAN
    if end < start:
        raise ValidationError("end_date comes before start_date", "end_date")
    if end - start > MAX_SPAN:
        raise ValidationError("start_date and end_date may be at most 90 days apart", "end_date")
    return start, end


class _PagedRangeSchema(ParamsSchema):
    start_date = W3CDateTime()
    end_date = W3CDateTime()
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(
        load_default=MAX_RESULTS, validate=validate.Range(min=1, max=MAX_RESULTS)
    )


class RequestsQuerySchema(_PagedRangeSchema):
    """GET requests: loads {"filter": RequestFilter, "extensions": bool}. service_request_id
    overrides every other parameter (which are then not even read)."""

    REPEATABLE = ("service_request_id", "service_code", "status")

    service_request_id = CommaList(max_length=32)
    service_code = CommaList()
    status = CommaList(
        validate=validate.ContainsOnly(OPEN311_STATUSES, error="status is open or closed")
    )
    bbox = BoundingBox()
    extensions = fields.Boolean(load_default=False)

    def narrow(self, params: dict) -> dict:
        if params.get("service_request_id"):
            keep = ("service_request_id", "extensions")
            return {name: value for name, value in params.items() if name in keep}
        return params

    @post_load
    def _to_filter(self, data: dict, **kwargs) -> dict:
        extensions = data.pop("extensions")
        if data.get("service_request_id"):
            return {
                "filter": RequestFilter(references=data["service_request_id"]),
                "extensions": extensions,
            }
        if data.get("start_date") is None and data.get("end_date") is None:
            start, end = default_window(utcnow()), None
        else:
            start, end = date_range(data.get("start_date"), data.get("end_date"), utcnow())
        wanted = RequestFilter(
            start=start,
            end=end,
            codes=data.get("service_code", ()),
            statuses=frozenset(data.get("status", ())),
            box=data.get("bbox"),
            page=data["page"],
            page_size=data["page_size"],
        )
        return {"filter": wanted, "extensions": extensions}


class ExtensionsSchema(ParamsSchema):
    """GET requests/{id}: extensions=true adds the extended attributes and notes."""

    extensions = fields.Boolean(load_default=False)


class UpdatesQuerySchema(_PagedRangeSchema):
    """GET servicerequestupdates: loads start, end, page and page_size."""

    @post_load
    def _to_range(self, data: dict, **kwargs) -> dict:
        start, end = date_range(data.get("start_date"), data.get("end_date"), utcnow())
        return {"start": start, "end": end, "page": data["page"], "page_size": data["page_size"]}


class _TextOnly(HTMLParser):
    """The text of an HTML fragment: scripts and styles dropped, breaks kept as line ends."""

    BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})
    HIDDEN = frozenset({"script", "style"})

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.HIDDEN:
            self.hidden = max(self.hidden - 1, 0)
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


#: Something that can only be markup: a tag, a comment or a CDATA section.
_MARKUP = re.compile(r"<(?:/?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>|!--|!\[CDATA\[)")


def plain_text(text: str) -> str:
    """`text` without HTML: the spec allows line breaks "but not html or code" in a
    description. We strip rather than refuse, so that a report is not lost to a stray <br>:
    tags go, their text stays (not that of scripts and styles), entities are decoded, breaks
    and paragraphs become line ends. Text without markup is left exactly as it is."""
    if not _MARKUP.search(text):
        return text
    parser = _TextOnly()
    parser.feed(text)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


class NewRequestSchema(ParamsSchema):
    """POST requests. Loads the fields below plus `attribute`, the answers to the service's
    questions as sent ({code: [values]}), from attribute[code]=v, attribute[code][]=v1&...
    or attribute[code]=v1&attribute[code]=v2."""

    # The shape only: what may be filed (the service, the answers, the position, lengths,
    # contact) is checked by the submission itself, tellcity.reports.submission.
    service_code = fields.String(required=True, validate=validate.Length(max=64))
    lat = fields.Float()
    long = fields.Float()
    address_string = fields.String()
    address_id = fields.String(validate=validate.Length(max=100))
    email = fields.String()
    device_id = fields.String(validate=validate.Length(max=200))
    account_id = fields.String(validate=validate.Length(max=200))
    first_name = fields.String()
    last_name = fields.String()
    phone = fields.String()
    # Measured again once stripped of any HTML; this bounds the work of stripping it.
    description = fields.String(validate=validate.Length(max=8 * DESCRIPTION_MAX))
    media_url = fields.Url(schemes={"http", "https"}, validate=validate.Length(max=500))

    def load(self, params, **kwargs) -> dict:
        data = super().load(params, **kwargs)
        data["attribute"] = questions.answers_from_form(params)
        return data

    @validates_schema
    def _location(self, data: dict, **kwargs) -> None:
        has_lat, has_long = "lat" in data, "long" in data
        if has_lat != has_long:
            raise ValidationError(
                "lat and long go together: send both", "long" if has_lat else "lat"
            )

    @post_load
    def _clean(self, data: dict, **kwargs) -> dict:
        """Descriptions and text answers without HTML (see plain_text)."""
        if "description" in data:
            data["description"] = plain_text(data["description"])
        return data
