"""What goes in and out of the JSON API for reports. The public schemas have no field for the
reporter's identity or contact, nor for internal events: they cannot leak by accident."""

from flask import url_for
from flask_babel import get_locale
from marshmallow import EXCLUDE, Schema, fields, validate

from tellcity.categories import questions
from tellcity.core.text import contact_region, mask_contacts, public_text
from tellcity.reports.history import told_text
from tellcity.reports.links import tracking_url
from tellcity.reports.models import Report
from tellcity.reports.queries import public_events
from tellcity.reports.states import STATUS_EVENTS, STATUS_LABELS, Kind, open311_status
from tellcity.reports.submission import Submission


def _locale() -> str:
    return str(get_locale() or "fr")


def photo_urls(report: Report) -> list[dict]:
    return [
        {
            "url": url_for("photos.image", key=photo.storage_key, _external=True),
            "thumbnail_url": url_for("photos.thumbnail", key=photo.thumbnail_key, _external=True),
            "width": photo.width,
            "height": photo.height,
        }
        for photo in report.photos
        if not photo.is_hidden
    ]


def public_timeline(report: Report) -> list[dict]:
    return [
        {
            "type": event.type,
            "status": event.to_value if event.type in STATUS_EVENTS else None,
            "text": mask_contacts(told_text(event), contact_region(report.city)),
            "at": event.created_at.isoformat(),
        }
        for event in public_events(report)
    ]


def public_answers(report: Report) -> list[dict]:
    """The answers to the category's questions, as anyone may read them: contact details
    typed into a text answer masked, as in a description."""
    region = contact_region(report.city)
    return [
        {
            "code": answer["code"],
            "question": answer["question"],
            "value": mask_contacts(answer["value"], region)
            if isinstance(answer["value"], str)
            else answer["value"],
            "text": mask_contacts(answer["text"], region),
        }
        for answer in questions.labelled(report.category, report.attributes, _locale())
    ]


class CategorySchema(Schema):
    code = fields.String()
    kind = fields.String()
    name = fields.Function(lambda c: c.name(_locale()))
    group = fields.Function(lambda c: c.group_en if _locale() == "en" else c.group_fr)
    description = fields.Function(
        lambda c: c.description_en if _locale() == "en" else c.description_fr
    )
    attributes = fields.List(fields.Dict())


class PublicReportSchema(Schema):
    reference = fields.String()
    kind = fields.String()
    status = fields.String()
    status_label = fields.Function(lambda r: str(STATUS_LABELS[r.status]))
    open311_status = fields.Function(lambda r: open311_status(r.status))
    category = fields.Function(
        lambda r: {"code": r.category.code, "name": r.category.name(_locale())}
    )
    department = fields.Function(lambda r: r.department.name)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    address = fields.Function(lambda r: public_text(r).address)
    description = fields.Function(lambda r: public_text(r).description)
    answers = fields.Function(public_answers)
    support_count = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    due_at = fields.DateTime(allow_none=True)
    photos = fields.Function(photo_urls)
    timeline = fields.Function(public_timeline)
    url = fields.Function(lambda r: url_for("reports.show", reference=r.reference, _external=True))


class CreatedReportSchema(Schema):
    """The answer to a submission: its reporter is the only one who gets the tracking link."""

    reference = fields.String()
    status = fields.String()
    kind = fields.String()
    department = fields.Function(lambda r: r.department.name)
    due_at = fields.DateTime(allow_none=True)
    url = fields.Function(lambda r: url_for("reports.show", reference=r.reference, _external=True))
    tracking_url = fields.Function(lambda r: tracking_url(r, external=True))


class NearbyReportSchema(Schema):
    reference = fields.Function(lambda pair: pair[0].reference)
    status = fields.Function(lambda pair: pair[0].status)
    category = fields.Function(lambda pair: pair[0].category.code)
    description = fields.Function(lambda pair: public_text(pair[0]).description[:200])
    distance_m = fields.Function(lambda pair: round(pair[1]))
    support_count = fields.Function(lambda pair: pair[0].support_count)
    created_at = fields.Function(lambda pair: pair[0].created_at.isoformat())
    photo = fields.Function(lambda pair: (photo_urls(pair[0]) or [None])[0])
    url = fields.Function(
        lambda pair: url_for("reports.show", reference=pair[0].reference, _external=True)
    )


class MarkerSchema(Schema):
    """A GeoJSON feature for the public map."""

    type = fields.Constant("Feature")
    geometry = fields.Function(lambda m: {"type": "Point", "coordinates": [m.lon, m.lat]})
    properties = fields.Function(
        lambda m: {
            "reference": m.reference,
            "kind": m.kind,
            "status": m.status,
            "open": open311_status(m.status) == "open",
            "category": m.category,
        }
    )


class ReportInputSchema(Schema):
    """POST /api/v1/reports (JSON, or form fields of a multipart request): the shape only. What
    may be filed (the category and its kind, the answers, the position, lengths, contact) is
    checked by the submission itself, tellcity.reports.submission, as for every front end."""

    class Meta:
        unknown = EXCLUDE

    kind = fields.String(validate=validate.OneOf([k.value for k in Kind]), load_default=None)
    category = fields.String(required=True, validate=validate.Length(min=1, max=64))
    lat = fields.Float(allow_none=True, load_default=None)
    lon = fields.Float(allow_none=True, load_default=None)
    address = fields.String(load_default="")
    description = fields.String(load_default="")
    name = fields.String(load_default=None, allow_none=True)
    email = fields.String(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True)
    #: {question code: value or [values]}, checked against the category's questions.
    attributes = fields.Raw(
        load_default=None,
        allow_none=True,
        metadata={
            "type": "object",
            "description": "the answers to the category's questions (see GET categories):"
            " {code: value, or a list of values for a question taking several}",
        },
    )


def submission_of(data: dict, **given) -> Submission:
    """The Submission of what ReportInputSchema loaded (/api/v1, and the web app's kept
    reports, tellcity.reports.views.offline), in the visitor's language; `given` is the rest
    each of them knows its own way (answers, photos, source, idempotency key, reporter)."""
    return Submission(
        category=data["category"],
        kind=data["kind"],
        lat=data["lat"],
        lon=data["lon"],
        address=data["address"],
        description=data["description"],
        reporter_name=data["name"],
        reporter_email=data["email"],
        reporter_phone=data["phone"],
        locale=str(get_locale()),
        **given,
    )
