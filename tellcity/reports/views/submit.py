"""The report form: a problem (/report) or an idea (/idea), on one page that works without
JavaScript; the map, geolocation and photo previews are added by static/js/report-form.js."""

import secrets

from flask import Blueprint, current_app, flash, redirect, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from tellcity.cities.queries import active_category, categories_by_group, current_city
from tellcity.core.errors import Invalid, TellCityError
from tellcity.core.permissions import Actor
from tellcity.extensions import db, limiter
from tellcity.geo.geocoding import reverse_address, search_address
from tellcity.photos import pending
from tellcity.photos.services import process_upload
from tellcity.reports import queries
from tellcity.reports.forms import ReportForm
from tellcity.reports.links import tracking_url
from tellcity.reports.services import Submission, submit_report
from tellcity.reports.states import Kind, Source

bp = Blueprint("submit", __name__)

#: Which form field shows a service error about each domain field.
FIELD_OF = {"position": "address", "photos": "photos"}


def _submit_limit() -> str:
    return current_app.config["RATELIMIT_SUBMIT"]


@bp.route("/report", methods=["GET", "POST"])
@limiter.limit(_submit_limit, methods=["POST"])
def problem():
    return _report_form(Kind.PROBLEM)


@bp.route("/idea", methods=["GET", "POST"])
@limiter.limit(_submit_limit, methods=["POST"])
def idea():
    return _report_form(Kind.SUGGESTION)


def _report_form(kind: str):
    city = current_city()
    form = ReportForm()
    groups = {
        heading: [c for c in categories if c.kind == kind]
        for heading, categories in categories_by_group(city, str(get_locale())).items()
    }
    form.set_categories({h: cs for h, cs in groups.items() if cs}, str(get_locale()))
    # A double-click or a resent form carries the same key and files one report.
    key = request.form.get("submission_key") or secrets.token_urlsafe(16)
    page = {"city": city, "form": form, "kind": kind, "nearby": [], "photos": [], "key": key}
    if request.method == "GET":
        _prefill(form)
        return render_template("reports/form.html", **page)
    if not form.validate_on_submit():
        return render_template("reports/form.html", **page), 422
    try:
        photos = _receive_photos(form)
        page["photos"] = photos
        submission = _submission(city, form, kind, photos, key)
        if kind == Kind.PROBLEM and not form.not_a_duplicate.data:
            page["nearby"] = _similar(city, submission)
            if page["nearby"]:
                form.not_a_duplicate.data = True
                return render_template("reports/form.html", **page)
        report, _created = submit_report(city, submission, Actor.system("resident"))
        db.session.commit()
    except TellCityError as error:
        db.session.rollback()
        _show_error(form, error)
        return render_template("reports/form.html", **page), error.status
    pending.drop(form.pending_photos.data)
    flash(
        _(
            "Thank you! Your report %(reference)s has been sent to %(department)s.",
            reference=report.reference,
            department=report.department.name,
        ),
        "success",
    )
    return redirect(tracking_url(report))


def _prefill(form: ReportForm) -> None:
    form.category.data = request.args.get("category")
    form.lat.data = request.args.get("lat", type=float)
    form.lon.data = request.args.get("lon", type=float)
    if current_user.is_authenticated:
        form.name.data, form.email.data = current_user.name, current_user.email
    form.pending_photos.data = ""


def _receive_photos(form: ReportForm) -> list:
    """Check the new uploads and keep them with those already received, so a form that comes
    back (an error, similar reports to look at) never asks for the photos again."""
    tokens = pending.tokens(form.pending_photos.data)
    for upload in request.files.getlist(form.photos.name):
        if upload and upload.filename:
            tokens.append(pending.stash(process_upload(upload.read())))
    form.pending_photos.data = " ".join(tokens)
    return pending.load(tokens)


def _submission(city, form: ReportForm, kind: str, photos: list, key: str) -> Submission:
    category = active_category(city, form.category.data)
    if category is None or category.kind != kind:
        raise Invalid(_("Choose a category from the list."), field="category")
    lat, lon, address = _position(city, form)
    return Submission(
        category=category,
        lat=lat,
        lon=lon,
        address=address,
        description=form.description.data or "",
        photos=[p.photo for p in photos],
        reporter_name=form.name.data or None,
        reporter_email=form.email.data or None,
        reporter_phone=form.phone.data or None,
        reporter=current_user if current_user.is_authenticated else None,
        locale=str(get_locale()),
        source=Source.WEB,
        idempotency_key=f"web:{key[:100]}",
    )


def _position(city, form: ReportForm) -> tuple[float | None, float | None, str]:
    """lat/lon from the map or the fields, else from the typed address; the address from the
    position when none was typed (left empty, and filled in later, if the geocoder is down)."""
    address = (form.address.data or "").strip()
    if form.lat.data is not None and form.lon.data is not None:
        return (
            form.lat.data,
            form.lon.data,
            address or reverse_address(form.lat.data, form.lon.data) or "",
        )
    if not address:
        return None, None, ""
    found = search_address(address, city, limit=1)
    if not found.available:
        raise Invalid(
            _(
                "The address search is not available right now: place the pin on the "
                "map, or give the latitude and longitude."
            ),
            field="position",
        )
    if not found.places:
        raise Invalid(
            _("We could not find this address in %(city)s.", city=city.name), field="position"
        )
    place = found.places[0]
    form.lat.data, form.lon.data = place.lat, place.lon
    return place.lat, place.lon, place.label


def _similar(city, submission: Submission) -> list:
    if submission.lat is None:
        return []
    config = current_app.config
    return queries.nearby_open(
        city,
        submission.category,
        submission.lat,
        submission.lon,
        radius_m=config["NEARBY_RADIUS_M"],
        days=config["NEARBY_DAYS"],
    )


def _show_error(form: ReportForm, error: TellCityError) -> None:
    name = FIELD_OF.get(error.field, error.field)
    field = getattr(form, name, None) if name else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")
