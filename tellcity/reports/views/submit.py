"""The report form: a problem (/report) or an idea (/idea), on one page that works without
JavaScript; the map, geolocation and photo previews are added by static/js/report-form.js."""

import secrets

from flask import Blueprint, current_app, flash, redirect, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from tellcity.accounts import budgets
from tellcity.categories import questions
from tellcity.cities.queries import active_category, categories_by_group, current_city
from tellcity.core.actions import attempt
from tellcity.core.errors import TellCityError
from tellcity.core.params import float_param
from tellcity.core.permissions import Actor
from tellcity.core.transaction import after_commit
from tellcity.extensions import limiter
from tellcity.photos import pending
from tellcity.photos.services import process_upload
from tellcity.reports import queries
from tellcity.reports.forms import ReportForm
from tellcity.reports.links import tracking_url
from tellcity.reports.states import Kind, Source
from tellcity.reports.submission import (
    Prepared,
    Submission,
    prepare,
    replayed,
    submit_report,
)

bp = Blueprint("submit", __name__)

#: Which form field shows a service error about each domain field.
FIELD_OF = {"position": "address", "photos": "photos", "attributes": None}


@bp.route("/report", methods=["GET", "POST"])
@limiter.limit(budgets.submissions, key_func=budgets.submitter, methods=["POST"])
def report_problem():
    return _report_form(Kind.PROBLEM)


@bp.route("/idea", methods=["GET", "POST"])
@limiter.limit(budgets.submissions, key_func=budgets.submitter, methods=["POST"])
def suggest_idea():
    return _report_form(Kind.SUGGESTION)


def _report_form(kind: str):
    city = current_city()
    form = ReportForm()
    categories = {
        heading: [c for c in group if c.kind == kind]
        for heading, group in categories_by_group(city, str(get_locale())).items()
    }
    categories = {heading: group for heading, group in categories.items() if group}
    form.set_categories(categories, str(get_locale()))
    # A double-click or a resent form carries the same key and files one report.
    key = request.form.get("submission_key") or secrets.token_urlsafe(16)
    page = {
        "city": city,
        "form": form,
        "kind": kind,
        "nearby": [],
        "photos": [],
        "key": key,
        "questions": _questions(categories),
        "answers": questions.answers_from_form(request.form),
        "answer_errors": {},
        "error": None,
    }
    if request.method == "GET":
        _prefill(form)
        return render_template("reports/form.html", **page)
    if not form.validate_on_submit():
        return render_template("reports/form.html", **page), 422
    outcome = attempt(lambda: _file(city, form, kind, key, page))
    if outcome.error:
        _show_error(form, outcome.error, page)
        return render_template("reports/form.html", **page), outcome.error.status
    report = outcome.result
    if report is None:  # the form comes back: questions to answer, similar reports to see
        return render_template("reports/form.html", **page)
    thanks = (
        _(
            "Thank you! Your idea %(reference)s has been sent to %(department)s.",
            reference=report.reference,
            department=report.department.name,
        )
        if report.kind == Kind.SUGGESTION
        else _(
            "Thank you! Your report %(reference)s has been sent to %(department)s.",
            reference=report.reference,
            department=report.department.name,
        )
    )
    photos = form.pending_photos.data
    after_commit(lambda: pending.drop(photos))
    after_commit(lambda: flash(thanks, "success"))
    return redirect(tracking_url(report))


def _file(city, form: ReportForm, kind: str, key: str, page: dict):
    """File the report the form describes; None when the form must come back first, with the
    chosen category's questions or the similar reports nearby to look at."""
    photos = page["photos"] = _receive_photos(form)
    submission = _submission(form, kind, photos, key, page["answers"])
    if (already := replayed(submission)) is not None:  # a double click: the same report
        return already
    if _questions_unseen(city, form.category.data):
        if kind == Kind.SUGGESTION:
            flash(_("A few questions about this idea, then send it again."), "info")
        else:
            flash(_("A few questions about this report, then send it again."), "info")
        return None
    prepared = prepare(city, submission)
    if prepared.lat is not None:  # found from the address: not looked up again
        form.lat.data, form.lon.data = prepared.lat, prepared.lon
    if kind == Kind.PROBLEM and not form.not_a_duplicate.data:
        page["nearby"] = _similar(city, prepared)
        if page["nearby"]:
            form.not_a_duplicate.data = True
            return None
    report, _created = submit_report(city, prepared, Actor.system("resident"))
    return report


def _questions(categories: dict) -> dict:
    """The questions each category of the form asks, by category code (those asking any), in
    the page's language: each definition with its `label` and its `choices` (key, label)."""
    locale = str(get_locale())
    return {
        category.code: [
            {
                **question,
                "label": questions.in_language(question, "description", locale),
                "choices": [
                    (str(option.get("key")), questions.in_language(option, "name", locale))
                    for option in questions.options(question)
                ],
            }
            for question in asked
        ]
        for group in categories.values()
        for category in group
        if (asked := questions.asked(category))
    }


def _questions_unseen(city, code: str) -> bool:
    """Whether the chosen category asks questions the resident was not shown: the form shows
    (and sends back, in `questions_for`) those of the category chosen when it was drawn, so
    without JavaScript a category with questions takes one more step."""
    category = active_category(city, code)
    return (
        category is not None
        and bool(questions.asked(category))
        and request.form.get("questions_for") != category.code
    )


def _prefill(form: ReportForm) -> None:
    form.category.data = request.args.get("category")
    form.lat.data = float_param(request.args.get("lat"), minimum=-90, maximum=90)
    form.lon.data = float_param(request.args.get("lon"), minimum=-180, maximum=180)
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


def _submission(form: ReportForm, kind: str, photos: list, key: str, answers: dict) -> Submission:
    return Submission(
        category=form.category.data,
        kind=kind,
        lat=form.lat.data,
        lon=form.lon.data,
        address=form.address.data or "",
        description=form.description.data or "",
        answers=answers,
        photos=[p.photo for p in photos],
        reporter_name=form.name.data or None,
        reporter_email=form.email.data or None,
        reporter_phone=form.phone.data or None,
        reporter=current_user if current_user.is_authenticated else None,
        locale=str(get_locale()),
        source=Source.WEB,
        idempotency_key=f"web:{key[:100]}",
    )


def _similar(city, prepared: Prepared) -> list:
    if prepared.lat is None:
        return []
    config = current_app.config
    return queries.nearby_open(
        city,
        prepared.category,
        prepared.lat,
        prepared.lon,
        radius_m=config["NEARBY_RADIUS_M"],
        days=config["NEARBY_DAYS"],
    )


def _show_error(form: ReportForm, error: TellCityError, page: dict) -> None:
    """Show the refusal next to the field at fault (or at the top), its code on the page."""
    page["error"] = error
    for name, messages in error.fields.items():
        if name.startswith("attributes."):
            page["answer_errors"][name.removeprefix("attributes.")] = messages
    name = FIELD_OF.get(error.field, error.field)
    field = getattr(form, name, None) if name else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    elif not page["answer_errors"]:
        flash(error.message, "error")
