"""The reporter's private pages: the tracking page (status, expected date, timeline; comment,
add a photo, follow by email, stop emails) and the pages behind the links of the resolution
email (confirm the fix, or reopen)."""

from flask import Blueprint, abort, flash, redirect, render_template, request
from flask_babel import gettext as _

from tellcity.core.actions import attempt
from tellcity.core.errors import Invalid
from tellcity.core.permissions import Actor
from tellcity.photos.services import process_upload
from tellcity.reports import queries, services
from tellcity.reports.forms import CommentForm, FollowForm, PhotoForm
from tellcity.reports.lifecycle import REOPENED_STATUS, transition, within_reopen_window
from tellcity.reports.links import (
    check_tracking_token,
    load_reporter_action,
    reporter_action_token,
    tracking_url,
)
from tellcity.reports.models import Report
from tellcity.reports.services import MAX_REPORT_PHOTOS
from tellcity.reports.states import Kind

bp = Blueprint("tracking", __name__)


def _tracked(reference: str, token: str) -> Report:
    report = queries.report_by_reference(reference)
    if report is None or not check_tracking_token(report, token):
        abort(404)
    return report


def _page(report: Report, **forms):
    can_answer = within_reopen_window(report)
    return render_template(
        "reports/track.html",
        report=report,
        comment_form=forms.get("comment_form") or CommentForm(),
        photo_form=forms.get("photo_form") or PhotoForm(),
        follow_form=forms.get("follow_form") or FollowForm(),
        confirm_token=reporter_action_token(report, "confirm") if can_answer else None,
        reopen_token=reporter_action_token(report, "reopen") if can_answer else None,
        can_add_photo=len(report.photos) < MAX_REPORT_PHOTOS,
        followers=queries.followers(report),
    )


@bp.get("/track/<reference>/<token>")
def show(reference: str, token: str):
    return _page(_tracked(reference, token))


@bp.post("/track/<reference>/<token>/comment")
def add_comment(reference: str, token: str):
    report = _tracked(reference, token)
    form = CommentForm()
    if not form.validate_on_submit():
        return _page(report, comment_form=form), 422

    def add():
        services.add_comment(report, form.text.data, Actor.reporter(report))

    return _act(report, form, form.text, add, _("Your comment is on the report's page."))


@bp.post("/track/<reference>/<token>/photo")
def add_photo(reference: str, token: str):
    report = _tracked(reference, token)
    form = PhotoForm()
    uploads = [f for f in request.files.getlist(form.photo.name) if f and f.filename]
    if not form.validate_on_submit() or not uploads:
        form.photo.errors = [*form.photo.errors, _("Choose a photo.")]
        return _page(report, photo_form=form), 422

    def add():
        photos = [process_upload(upload.read()) for upload in uploads]
        services.add_photos(report, photos, Actor.reporter(report))

    return _act(report, form, form.photo, add, _("Your photo has been added."))


@bp.post("/track/<reference>/<token>/follow")
def follow(reference: str, token: str):
    report = _tracked(reference, token)
    form = FollowForm()
    if not form.validate_on_submit():
        return _page(report, follow_form=form), 422

    def add():
        services.follow(report, form.email.data, confirmed=True)

    done = _("%(email)s will be told of every change.", email=form.email.data)
    return _act(report, form, form.email, add, done)


@bp.post("/track/<reference>/<token>/unfollow")
def unfollow(reference: str, token: str):
    report = _tracked(reference, token)
    email = request.form.get("email", "")
    if services.unfollow(report, email):
        flash(_("%(email)s will no longer get emails about this report.", email=email), "success")
    return redirect(tracking_url(report))


@bp.post("/track/<reference>/<token>/notifications")
def set_notifications(reference: str, token: str):
    report = _tracked(reference, token)
    report.notify_reporter = request.form.get("on") == "1"
    flash(
        _("We will email you about this report.")
        if report.notify_reporter
        else _("We will no longer email you about this report."),
        "success",
    )
    return redirect(tracking_url(report))


FORM_NAMES = {CommentForm: "comment_form", PhotoForm: "photo_form", FollowForm: "follow_form"}


def _act(report: Report, form, field, action, done: str):
    """Run a service for the tracking page and come back to the page, or show the page again
    with the error under `field`."""
    outcome = attempt(action)
    if (error := outcome.error) is not None:
        field.errors = [*field.errors, error.message]
        return _page(report, **{FORM_NAMES[type(form)]: form}), error.status
    flash(done, "success")
    return redirect(tracking_url(report))


def _report_from_link(reference: str, action: str) -> tuple[Report, str]:
    token = request.values.get("token", "")
    report = queries.report_by_reference(reference)
    if report is None:
        abort(404)
    try:
        report_id, token_action = load_reporter_action(token)
    except ValueError:
        abort(403, description=_("This link is not valid, or has expired."))
    if report_id != report.id or token_action != action:
        abort(403, description=_("This link is not for this report."))
    return report, token


@bp.route("/reports/<reference>/confirm", methods=["GET", "POST"])
def confirm(reference: str):
    report, token = _report_from_link(reference, "confirm")
    page = {
        "report": report,
        "token": token,
        "reopen_token": reporter_action_token(report, "reopen"),
    }
    if request.method == "GET":
        return render_template("reports/confirm.html", **page)
    if error := attempt(lambda: services.confirm_fix(report, Actor.reporter(report))).error:
        return render_template("reports/confirm.html", **page, error=error.message), error.status
    return render_template("reports/thanks.html", report=report, action="confirm")


@bp.route("/reports/<reference>/reopen", methods=["GET", "POST"])
def reopen(reference: str):
    report, token = _report_from_link(reference, "reopen")
    if request.method == "GET":
        return render_template("reports/reopen.html", report=report, token=token)
    comment = request.form.get("comment", "").strip()

    def reopen_it():
        if not comment:
            raise Invalid(_("Tell us what is wrong: the department needs to know."))
        to_status = REOPENED_STATUS[Kind(report.kind)]
        transition(report, to_status, Actor.reporter(report), text=comment[:4000])

    if (error := attempt(reopen_it).error) is not None:
        page = {"report": report, "token": token, "comment": comment, "error": error.message}
        return render_template("reports/reopen.html", **page), error.status
    return render_template("reports/thanks.html", report=report, action="reopen")
