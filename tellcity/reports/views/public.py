"""Public pages: home with the map, the list of reports, one report, ideas, "me too", and
following a report or an idea by email (double opt-in: see services.ask_to_follow)."""

import hashlib
import secrets

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from tellcity.categories import questions
from tellcity.cities.queries import categories_by_group, current_city, default_city
from tellcity.core.actions import attempt
from tellcity.core.conditional import unless_unchanged
from tellcity.core.i18n import show_times_of
from tellcity.core.params import float_param, page_param
from tellcity.core.transaction import after_commit
from tellcity.core.urls import safe_next
from tellcity.extensions import limiter
from tellcity.reports import history, queries, services
from tellcity.reports.forms import FollowForm
from tellcity.reports.models import Report
from tellcity.reports.schemas import MarkerSchema
from tellcity.reports.states import KIND_LABELS, SOURCE_LABELS
from tellcity.reports.versions import public_version

bp = Blueprint("reports", __name__)
# For every template: `{% if report is open %}` and `{% for event in public_events(report) %}`.
bp.add_app_template_test(lambda report: report.is_open, "open")
bp.add_app_template_global(queries.public_events)
# An event in words, in the page's language: `describe_event(event)` and the others of history.
bp.add_app_template_global(history.describe, "describe_event")
bp.add_app_template_global(history.system_note, "event_note")
bp.add_app_template_global(history.told_text, "event_text")
bp.add_app_template_global(history.actor_name, "event_actor")
bp.add_app_template_global(history.routing_reason)
bp.add_app_template_global(history.reason_label)  # also for the emails the worker renders
bp.add_app_template_global(KIND_LABELS, "KIND_LABELS")
bp.add_app_template_global(SOURCE_LABELS, "SOURCE_LABELS")
bp.add_app_template_global(
    lambda report: questions.labelled(report.category, report.attributes, str(get_locale())),
    "answers_of",
)


@bp.get("/")
def home():
    city = default_city()
    if city is None:
        slug = current_app.config["DEFAULT_CITY"]
        return render_template("reports/no_city.html", slug=slug)
    show_times_of(city)  # not a signed-in agent's city: the one this site serves
    recent = queries.recent_public(city, limit=10)
    return render_template("reports/home.html", city=city, recent=recent)


@bp.get("/reports")
def index():
    city = current_city()
    return render_template(
        "reports/index.html", city=city, reports=queries.recent_public(city, limit=50)
    )


@bp.get("/reports/markers.json")
def markers():
    """Public reports in a map viewport, as GeoJSON: ?bbox=west,south,east,north."""
    city = current_city()
    box = [float_param(part) for part in request.args.get("bbox", "").split(",")]
    if len(box) != 4 or None in box:
        return jsonify(
            error={
                "code": "invalid_bbox",
                "field": "bbox",
                "message": "bbox=west,south,east,north in degrees",
            }
        ), 400
    west, south, east, north = box

    def answer():
        found = queries.markers_in_box(city, south, west, north, east)
        return jsonify(type="FeatureCollection", features=MarkerSchema(many=True).dump(found))

    version = public_version(city.id)
    validator = ("markers", city.id, version, city.config_version, str(get_locale()), *box)
    return unless_unchanged(validator, answer)


def _public_or_404(reference: str) -> Report:
    report = queries.public_report(current_city(), reference)
    if report is None:
        abort(404)
    return report


@bp.get("/reports/<reference>")
def show(reference: str):
    return _show_page(_public_or_404(reference))


def _show_page(report: Report, follow_form: FollowForm | None = None):
    return render_template(
        "reports/show.html",
        city=current_city(),
        report=report,
        follow_form=follow_form or FollowForm(),
        follow_offered=_follow_offered() == report.reference,
    )


@bp.get("/ideas")
def ideas():
    city = current_city()
    order = request.args.get("order", "support")
    page = page_param(request.args.get("page"))
    found = queries.public_suggestions(city, order=order, page=page)
    return render_template(
        "reports/ideas.html",
        city=city,
        ideas=found,
        order=order,
        page=page,
        groups=categories_by_group(city),
        follow_form=FollowForm(),
        follow_offered=_follow_offered(),
    )


def supporter_key() -> str:
    """An anonymous supporter's key: the hash of a random token kept in their signed session
    cookie, so one browser counts once."""
    token = session.setdefault("supporter", secrets.token_urlsafe(24))
    session.permanent = True
    return hashlib.sha256(token.encode()).hexdigest()


def _support_limit() -> str:
    return current_app.config["RATELIMIT_SUPPORT"]


@bp.post("/reports/<reference>/support")
@limiter.limit(_support_limit)
def support(reference: str):
    report = _public_or_404(reference)
    user = current_user if current_user.is_authenticated else None
    key = None if user else supporter_key()
    outcome = attempt(lambda: services.add_support(report, user=user, supporter_key=key))
    if outcome.error is not None:
        flash(outcome.error.message, "error")
    else:
        thanks = (
            _("Thank you: your support is counted.")
            if outcome.result
            else _("You had already supported this.")
        )
        after_commit(lambda: flash(thanks, "success"))
        _offer_follow(report)
    back = url_for("reports.show", reference=reference, _anchor="follow")
    return redirect(safe_next(request.form.get("next"), back))


# Following by email from a public page: the address confirms before it gets anything.

OFFER_KEY = "follow_offer"


def _offer_follow(report: Report) -> None:
    """After a "me too" or a vote, the next page offers to follow what happens by email."""
    if report.is_open:
        session[OFFER_KEY] = report.reference


def _follow_offered() -> str | None:
    """The reference of the report or idea this visitor has just supported: offered once."""
    return session.pop(OFFER_KEY, None)


@bp.post("/reports/<reference>/follow")
@limiter.limit(_support_limit)
def follow(reference: str):
    report = _public_or_404(reference)
    form = FollowForm()
    if not form.validate_on_submit():
        return _show_page(report, form), 422
    locale = str(get_locale())
    outcome = attempt(lambda: services.ask_to_follow(report, form.email.data, locale=locale))
    if (error := outcome.error) is not None and error.field == "email":
        form.email.errors = [*form.email.errors, error.message]
        return _show_page(report, form), error.status
    back = url_for("reports.show", reference=reference)
    if error is not None:  # closed meanwhile: the page no longer has the form
        flash(error.message, "error")
        return redirect(back)
    # The same words whether or not the address already follows: nobody learns who does.
    sent = _(
        "Check your inbox: unless this address already follows, we have sent a link to"
        " confirm to %(email)s. Nothing else is sent to it before.",
        email=form.email.data.strip(),
    )
    after_commit(lambda: flash(sent, "success"))
    return redirect(safe_next(request.form.get("next"), back))
