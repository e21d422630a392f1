"""The reporter's private pages: the tracking page (status, expected date, timeline; comment,
add a photo, follow by email, stop emails) and the pages behind the links of the resolution
email (confirm the fix, or reopen)."""

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from tellcity.core.actions import attempt
from tellcity.core.errors import Invalid
from tellcity.core.i18n import date_local, show_times_of
from tellcity.core.permissions import Actor
from tellcity.photos.services import process_upload
from tellcity.reports import queries, services
from tellcity.reports.forms import CommentForm, FollowForm, PhotoForm
from tellcity.reports.lifecycle import REOPENED_STATUS, ReporterAnswer, reporter_answer, transition
from tellcity.reports.links import (
    ExpiredLink,
    check_tracking_token,
    load_reporter_action,
    reporter_action_token,
    tracking_url,
)
from tellcity.reports.models import Report
from tellcity.reports.services import MAX_REPORT_PHOTOS
from tellcity.reports.states import STATUS_LABELS, Kind

bp = Blueprint("tracking", __name__)


def _tracked(reference: str, token: str) -> Report:
    report = queries.report_by_reference(reference)
    if report is None or not check_tracking_token(report, token):
        abort(404)
    show_times_of(report.city)  # the link reaches a report of any city
    return report


def _page(report: Report, **forms):
    answer = reporter_answer(report)
    can_answer = answer.state == "awaited"
    return render_template(
        "reports/track.html",
        report=report,
        idea=report.kind == Kind.SUGGESTION,
        answer=answer,
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

    done = (
        _("Your comment is on the idea's page.")
        if report.kind == Kind.SUGGESTION
        else _("Your comment is on the report's page.")
    )
    return _act(report, form, form.text, add, done)


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
        done = (
            _("%(email)s will no longer get emails about this idea.", email=email)
            if report.kind == Kind.SUGGESTION
            else _("%(email)s will no longer get emails about this report.", email=email)
        )
        flash(done, "success")
    return redirect(tracking_url(report))


@bp.post("/track/<reference>/<token>/notifications")
def set_notifications(reference: str, token: str):
    report = _tracked(reference, token)
    report.notify_reporter = request.form.get("on") == "1"
    flash(_notifications_message(report), "success")
    return redirect(tracking_url(report))


def _notifications_message(report: Report) -> str:
    if report.kind == Kind.SUGGESTION:
        if report.notify_reporter:
            return _("We will email you about this idea.")
        return _("We will no longer email you about this idea.")
    if report.notify_reporter:
        return _("We will email you about this report.")
    return _("We will no longer email you about this report.")


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
    show_times_of(report.city)
    try:
        report_id, token_action = load_reporter_action(token)
    except ExpiredLink:
        # What happened since, when something did; else only that the time has passed.
        answer = reporter_answer(report)
        if answer.state == "awaited":  # resolved again since: this link is of an older email
            answer = ReporterAnswer("expired")
        abort(_link_used(report, answer, 403))
    except ValueError:
        abort(403, description=_("This link is not valid, or has expired."))
    if report_id != report.id or token_action != action:
        abort(403, description=_("This link is not for this report."))
    if (answer := reporter_answer(report)).state != "awaited":
        abort(_link_used(report, answer, 200 if request.method == "GET" else 409))
    return report, token


#: What a confirm or reopen link that can no longer be answered says, by the answer's state.
LINK_USED = {
    "confirmed": _l("You already confirmed this fix on %(date)s. Thank you!"),
    "reopened": _l("This report was reopened on %(date)s. It is now: %(status)s."),
    "expired": _l(
        "The 30 days to answer have passed. If the problem is back, please file a new report."
    ),
    "changed": _l("This report has changed since this link was sent. It is now: %(status)s."),
}
YOU_REOPENED = _l(
    "You reopened this report on %(date)s: the department has your message. It is now: %(status)s."
)


def _link_used(report: Report, answer: ReporterAnswer, status: int):
    """The page of a confirm or reopen link that can no longer be answered: what happened, in
    plain words, and the way to the reporter's page."""
    message = YOU_REOPENED if answer.by_reporter else LINK_USED[answer.state]
    text = str(message) % {
        "date": date_local(answer.at),
        "status": STATUS_LABELS[report.status],
    }
    expired = answer.state == "expired"
    page = render_template(
        "reports/link_used.html",
        report=report,
        heading=_("This link has expired") if expired else _("No answer is needed any more"),
        message=text,
        tracking=tracking_url(report),
    )
    return make_response(page, status)


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
