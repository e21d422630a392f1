"""Reporter pages reached from an email: confirm a fix, or reopen the report."""

import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request

from tellcity.core.errors import TellCityError
from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.reports import services
from tellcity.reports.lifecycle import REOPENED_STATUS, transition
from tellcity.reports.links import load_reporter_action, reporter_action_token
from tellcity.reports.models import Report
from tellcity.reports.states import Kind

bp = Blueprint("reports", __name__)


def _report_from_link(reference: str, action: str) -> tuple[Report, str]:
    token = request.values.get("token", "")
    report = db.session.scalar(sa.select(Report).where(Report.reference == reference))
    if report is None:
        abort(404)
    try:
        report_id, token_action = load_reporter_action(token)
    except ValueError as error:
        abort(403, description=f"{error}.")
    if report_id != report.id or token_action != action:
        abort(403, description="This link is not for this report.")
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
    try:
        services.confirm_fix(report, Actor.reporter(report))
    except TellCityError as error:
        db.session.rollback()
        return render_template("reports/confirm.html", **page, error=error.message), error.status
    db.session.commit()
    return render_template("reports/thanks.html", report=report, action="confirm")


@bp.route("/reports/<reference>/reopen", methods=["GET", "POST"])
def reopen(reference: str):
    report, token = _report_from_link(reference, "reopen")
    if request.method == "GET":
        return render_template("reports/reopen.html", report=report, token=token)
    comment = request.form.get("comment", "").strip()
    try:
        if not comment:
            raise TellCityError("Dites-nous ce qui ne va pas : le service en a besoin.")
        to_status = REOPENED_STATUS[Kind(report.kind)]
        transition(report, to_status, Actor.reporter(report), text=comment[:4000])
    except TellCityError as error:
        db.session.rollback()
        return render_template(
            "reports/reopen.html", report=report, token=token, comment=comment, error=error.message
        ), error.status
    db.session.commit()
    return render_template("reports/thanks.html", report=report, action="reopen")
