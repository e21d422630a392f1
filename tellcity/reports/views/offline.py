"""A report or an idea kept on the phone while it had no connection, sent later by
static/js/offline.js (from the form's page, "My reports" or the service worker): the web form's
fields, answers and photos, as multipart, under the form's own idempotency key, so that however
many times it is sent (and even if the form itself had reached us) it is filed once.

It trusts no token, neither the form's CSRF token nor its session: a report kept for a day
outlives both. It is refused unless the browser says it comes from one of our pages (Origin);
see `_from_our_pages`.
"""

from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError

from tellcity.accounts import budgets
from tellcity.categories import questions
from tellcity.cities.queries import current_city
from tellcity.core.errors import api_error
from tellcity.core.permissions import Actor
from tellcity.core.transaction import after_commit
from tellcity.extensions import csrf, limiter
from tellcity.photos import pending
from tellcity.photos.services import process_upload
from tellcity.reports.links import tracking_url
from tellcity.reports.schemas import ReportInputSchema, submission_of
from tellcity.reports.states import Source
from tellcity.reports.submission import (
    REPLAYED_HEADERS,
    Submission,
    check_photo_count,
    submit_report,
)

bp = Blueprint("offline", __name__)

report_input = ReportInputSchema()


@bp.post("/report/send")
@csrf.exempt
@limiter.limit(budgets.submissions, key_func=budgets.submitter)
def send_report():
    """File a report kept on the phone: 201 with its reference and tracking link (200 and
    `Idempotent-Replayed: true` when that key was filed before); a refusal in the JSON shape
    of /api/v1, with the field."""
    if not _from_our_pages():
        return api_error(403, "not_our_page", _("Send this report from TellCity's own pages."))
    key = request.form.get("submission_key", "").strip()[:100]
    if not key:
        return api_error(422, "validation_error", "submission_key is required")
    try:
        # Fields left empty on the form are not sent: "" is no latitude.
        data = report_input.load({k: v for k, v in request.form.items() if v.strip()})
    except ValidationError as error:
        return api_error(422, "validation_error", "some fields are invalid", error.messages)
    report, created = submit_report(
        current_city(), _submission(data, key), Actor.system("resident")
    )
    photos = request.form.get("pending_photos")
    after_commit(lambda: pending.drop(photos))
    answer = {
        "reference": report.reference,
        "kind": report.kind,
        "title": report.category.name(str(get_locale())),
        "department": report.department.name,
        "created_at": report.created_at.isoformat(),
        "tracking_url": tracking_url(report),
    }
    return (jsonify(answer), 201) if created else (jsonify(answer), 200, REPLAYED_HEADERS)


def _submission(data: dict, key: str) -> Submission:
    """The form's fields as the web form reads them (tellcity.reports.views.submit), with its
    key: a form that reached us before the phone kept it is not filed twice."""
    uploads = [upload for upload in request.files.getlist("photos") if upload.filename]
    kept = pending.load(pending.tokens(request.form.get("pending_photos")))
    check_photo_count(len(uploads) + len(kept))
    return submission_of(
        data,
        answers=questions.answers_from_form(request.form),
        photos=[p.photo for p in kept] + [process_upload(upload.read()) for upload in uploads],
        reporter=current_user if current_user.is_authenticated else None,
        source=Source.WEB,
        idempotency_key=f"web:{key}",
    )


def _from_our_pages() -> bool:
    """Whether the browser says this request comes from one of our pages or our service
    worker. Browsers send Origin with every POST and no page of another site can set it, so
    this refuses what a CSRF token would (a form or a script elsewhere using the resident's
    cookies to file in their name) without a token that expires while the report waits on the
    phone. Ours is the address the request was sent to, or BASE_URL's (behind a proxy that
    does not pass the Host on). A program that is not a browser has /api/v1."""
    origin = request.headers.get("Origin")
    if not origin:
        return False
    ours = {request.host, urlsplit(current_app.config["BASE_URL"]).netloc}
    return urlsplit(origin).netloc in ours
