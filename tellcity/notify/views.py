"""The page a follower reaches from the unsubscribe link of an email."""

from flask import Blueprint, abort, render_template

from tellcity.notify import services
from tellcity.notify.queries import followed_report, subscription_by_token
from tellcity.reports.models import Report, Subscription

bp = Blueprint("notify", __name__)


def _subscription(token: str) -> tuple[Subscription, Report | None]:
    subscription = subscription_by_token(token)
    if subscription is None:
        abort(404, description="Ce lien de désabonnement n'est plus valable.")
    return subscription, followed_report(subscription)


@bp.get("/subscriptions/<token>/unsubscribe")
def unsubscribe_form(token: str):
    """Ask before unsubscribing: mail scanners follow links, so a GET changes nothing."""
    _, report = _subscription(token)
    return render_template("notify/unsubscribe.html", token=token, report=report, done=False)


@bp.post("/subscriptions/<token>/unsubscribe")
def unsubscribe(token: str):
    subscription, report = _subscription(token)
    services.unsubscribe(subscription)
    return render_template("notify/unsubscribe.html", token=token, report=report, done=True)
