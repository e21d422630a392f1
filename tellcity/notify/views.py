"""The pages a follower reaches from the links of an email: confirming they follow a report
(the double opt-in of a public page's follow form), and unsubscribing; and the page where a
reporter stops the emails about their report."""

from flask import Blueprint, abort, render_template
from flask_babel import gettext as _

from tellcity.notify import services
from tellcity.notify.queries import followed_report, subscription_by_token
from tellcity.reports import services as reports
from tellcity.reports.links import load_reporter_unsubscribe
from tellcity.reports.models import Report, Subscription
from tellcity.reports.queries import report_by_reference

bp = Blueprint("notify", __name__)


def _subscription(token: str) -> tuple[Subscription, Report | None]:
    subscription = subscription_by_token(token)
    if subscription is None:
        abort(404, description="Ce lien de désabonnement n'est plus valable.")
    return subscription, followed_report(subscription)


@bp.get("/subscriptions/<token>/confirm")
def confirm_form(token: str):
    """Ask before confirming: mail scanners follow links, so a GET changes nothing."""
    subscription, report = _followed(token)
    return render_template(
        "notify/confirm.html", token=token, report=report, done=subscription.is_confirmed
    )


@bp.post("/subscriptions/<token>/confirm")
def confirm(token: str):
    subscription, report = _followed(token)
    reports.confirm_following(subscription)
    return render_template("notify/confirm.html", token=token, report=report, done=True)


def _followed(token: str) -> tuple[Subscription, Report]:
    """The subscription to a report whose confirmation link carries `token`."""
    subscription = subscription_by_token(token)
    report = followed_report(subscription) if subscription else None
    if report is None:
        abort(404, description=_("This link is no longer valid: ask to follow again."))
    return subscription, report


@bp.get("/subscriptions/<token>/unsubscribe")
def unsubscribe_form(token: str):
    """Ask before unsubscribing: mail scanners follow links, so a GET changes nothing."""
    report = _subscription(token)[1]
    return render_template("notify/unsubscribe.html", token=token, report=report, done=False)


@bp.post("/subscriptions/<token>/unsubscribe")
def unsubscribe(token: str):
    subscription, report = _subscription(token)
    services.unsubscribe(subscription)
    return render_template("notify/unsubscribe.html", token=token, report=report, done=True)


def _reported(reference: str, token: str) -> Report:
    """The report whose reporter's unsubscribe link (tellcity.reports.links) carries `token`."""
    report = report_by_reference(reference)
    try:
        report_id = load_reporter_unsubscribe(token)
    except ValueError:
        abort(404, description=_("This link is not valid, or has expired."))
    if report is None or report.id != report_id:
        abort(404, description=_("This link is not for this report."))
    return report


@bp.get("/reports/<reference>/unsubscribe/<token>")
def reporter_unsubscribe_form(reference: str, token: str):
    """The reporter's link to stop their emails: a GET only asks (mail scanners follow links)."""
    report = _reported(reference, token)
    page = {"report": report, "token": token, "done": not report.notify_reporter}
    return render_template("notify/reporter_unsubscribe.html", **page)


@bp.post("/reports/<reference>/unsubscribe/<token>")
def reporter_unsubscribe(reference: str, token: str):
    report = _reported(reference, token)
    services.stop_reporter_emails(report)
    page = {"report": report, "token": token, "done": True}
    return render_template("notify/reporter_unsubscribe.html", **page)
