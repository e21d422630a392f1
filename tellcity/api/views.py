"""/api/v1 — thin views over the same services as the web form."""

import hashlib

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from marshmallow import ValidationError

from tellcity.accounts import api_keys, budgets
from tellcity.api.openapi import describe, openapi_document
from tellcity.cities.queries import categories_by_group, current_city
from tellcity.core.conditional import unless_unchanged
from tellcity.core.errors import Invalid, NotAllowed, Unauthenticated, api_error
from tellcity.core.params import float_param
from tellcity.core.permissions import Actor
from tellcity.extensions import csrf, limiter
from tellcity.geo.geocoding import reverse_address, search_address
from tellcity.photos.services import process_upload, read_gps
from tellcity.reports import queries, services
from tellcity.reports.schemas import (
    CategorySchema,
    CreatedReportSchema,
    NearbyReportSchema,
    PublicReportSchema,
    ReportInputSchema,
    submission_of,
)
from tellcity.reports.states import Source
from tellcity.reports.submission import (
    REPLAYED_HEADERS,
    check_photo_count,
    find_category,
    submit_report,
)

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # no cookies are trusted here: nothing acts on a signed-in session

# Made once: a schema instance keeps no state between loads and dumps, and building one copies
# all its fields (0.2 ms a submission).
report_input = ReportInputSchema()
created_report = CreatedReportSchema()


@bp.errorhandler(ValidationError)
def _invalid_input(error: ValidationError):
    messages = error.normalized_messages()
    return api_error(422, "validation_error", "some fields are invalid", messages)


@bp.get("/categories")
def categories():
    """The city's categories in the client's language; 304 while its configuration is the
    same (they are part of it: tellcity.cities.versions)."""
    city = current_city()
    locale = str(get_locale())

    def answer():
        found = [c for cs in categories_by_group(city, locale).values() for c in cs]
        return jsonify(categories=CategorySchema(many=True).dump(found))

    return unless_unchanged(("categories", city.id, city.config_version, locale), answer)


@bp.post("/reports")
@limiter.limit(budgets.submissions, key_func=budgets.submitter)
def create_report():
    """A report from an app: JSON, or multipart with up to 3 `photos` files: 201. An
    Idempotency-Key header makes a retry return the first answer, never a second report: 200,
    the same body, and `Idempotent-Replayed: true`."""
    city = current_city()
    actor = _submitter(city)
    data = report_input.load(_payload())
    uploads = [upload for upload in _files("photos") if upload.filename]
    check_photo_count(len(uploads))
    key = request.headers.get("Idempotency-Key", "").strip()[:100]
    submission = submission_of(
        data,
        answers=data["attributes"],
        photos=[process_upload(upload.read()) for upload in uploads],
        source=Source.API,
        idempotency_key=f"api:{key}" if key else None,
    )
    report, created = submit_report(city, submission, actor)
    status, headers = (201, {}) if created else (200, REPLAYED_HEADERS)
    return jsonify(created_report.dump(report)), status, headers


def _submitter(city) -> Actor:
    """An app that sends an API key (it then has the key's budget, tellcity.accounts.budgets)
    is named by it in the report's history; without one, "public". A key that is not valid,
    or not for this city's reports, is refused rather than ignored: its program would
    otherwise count against the public's budget without knowing why."""
    if api_keys.presented_key() is None:
        return Actor.api("public")
    api_key = budgets.request_api_key()
    if api_key is None:
        raise Unauthenticated(_("This API key is not valid."))
    if not api_keys.may_use(api_key, city):
        raise NotAllowed(_("This API key may not send reports to this city."), code="forbidden")
    return Actor.api(api_key.name)


def _payload() -> dict:
    if request.is_json:
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            raise Invalid(_("the body must be a JSON object"), code="invalid_json")
        return payload
    return request.form.to_dict()


def _files(name: str) -> list:
    """The files sent under this name: only a multipart body has any (a JSON body is not
    parsed as a form to find none: 0.1 ms a submission)."""
    return request.files.getlist(name) if request.mimetype == "multipart/form-data" else []


@bp.get("/reports/<reference>")
def show_report(reference: str):
    report = queries.public_report(current_city(), reference)
    if report is None:
        return api_error(404, "not_found", f"no public report {reference}")
    return jsonify(PublicReportSchema().dump(report))


@bp.get("/reports/nearby")
def nearby():
    """Open reports near a point: ?lat=&lon=[&category=code][&radius_m=150]."""
    city = current_city()
    lat, lon = _position_args()
    if lat is None:
        return api_error(
            400,
            "missing_position",
            "lat and lon are required",
            {"lat": ["required"], "lon": ["required"]},
        )
    default_radius = current_app.config["NEARBY_RADIUS_M"]
    radius = min(float_param(request.args.get("radius_m"), minimum=0, default=default_radius), 1000)
    category = None
    if code := request.args.get("category"):
        category = find_category(city, code)
    found = queries.nearby_open(
        city, category, lat, lon, radius_m=radius, days=current_app.config["NEARBY_DAYS"]
    )
    return jsonify(reports=NearbyReportSchema(many=True).dump(found))


def _support_limit() -> str:
    return current_app.config["RATELIMIT_SUPPORT"]


@bp.post("/reports/<reference>/support")
@limiter.limit(_support_limit)
def support(reference: str):
    """ "Me too": once per `supporter` (an app's stable device or install id)."""
    report = queries.public_report(current_city(), reference)
    if report is None:
        return api_error(404, "not_found", f"no public report {reference}")
    payload = _payload()
    supporter = str(payload.get("supporter") or "").strip()
    if not 8 <= len(supporter) <= 200:
        return api_error(
            422,
            "validation_error",
            "a supporter id is required",
            {"supporter": ["8 to 200 characters identifying the device"]},
        )
    key = hashlib.sha256(f"api:{supporter}".encode()).hexdigest()
    counted = services.add_support(report, supporter_key=key)
    return jsonify(counted=counted, support_count=report.support_count), 200 if not counted else 201


@bp.get("/geocode")
def geocode():
    """Addresses in the city matching ?q= (for the form's address box)."""
    query = request.args.get("q", "").strip()
    if not 3 <= len(query) <= 200:
        return api_error(400, "invalid_query", "q must be 3 to 200 characters")
    found = search_address(query, current_city())
    places = [{"lat": p.lat, "lon": p.lon, "label": p.label} for p in found.places]
    return jsonify(available=found.available, places=places)


@bp.get("/geocode/reverse")
def reverse_geocode():
    lat, lon = _position_args()
    if lat is None:
        return api_error(400, "missing_position", "lat and lon are required")
    return jsonify(address=reverse_address(lat, lon))


def _position_args() -> tuple[float, float] | tuple[None, None]:
    """?lat=&lon= in degrees; (None, None) when either is missing, not a number or off the
    Earth."""
    lat = float_param(request.args.get("lat"), minimum=-90, maximum=90)
    lon = float_param(request.args.get("lon"), minimum=-180, maximum=180)
    return (None, None) if lat is None or lon is None else (lat, lon)


@bp.post("/photos/gps")
@limiter.limit(budgets.submissions, key_func=budgets.submitter)
def photo_gps():
    """The position stored in a photo, to offer it for the pin. The photo is not kept."""
    upload = request.files.get("photo")
    if upload is None:
        abort(400)
    position = read_gps(upload.read())
    if position is None:
        return jsonify(position=None)
    return jsonify(position={"lat": position[0], "lon": position[1]})


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of this API."""
    return jsonify(openapi_document())


@bp.get("/docs")
def docs():
    """The same document as a page to read: operations, parameters, answers and schemas."""
    return render_template("api/docs.html", spec=openapi_document(), describe=describe)
