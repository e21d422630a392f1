"""Signed links that let a reporter follow and act on their report without an account: the
private tracking page, and confirming a fix or reopening the report from an email."""

import base64
import hashlib
import hmac

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from tellcity.reports.models import Report
from tellcity.reports.states import REOPEN_WINDOW

ACTIONS = ("confirm", "reopen")


class ExpiredLink(ValueError):
    """A genuine confirm or reopen link, older than the reopen window."""


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="reporter-action")


def reporter_action_token(report: Report, action: str) -> str:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    return _serializer().dumps({"report": report.id, "action": action})


def reporter_action_url(report: Report, action: str) -> str:
    """The absolute URL of the page where the reporter confirms or reopens `report`."""
    base = current_app.config["BASE_URL"].rstrip("/")
    token = reporter_action_token(report, action)
    return f"{base}/reports/{report.reference}/{action}?token={token}"


def load_reporter_action(token: str) -> tuple[int, str]:
    """(report id, action) from a token. Raises ExpiredLink if it is older than the reopen
    window, ValueError if it is forged."""
    try:
        data = _serializer().loads(token, max_age=int(REOPEN_WINDOW.total_seconds()))
    except SignatureExpired as error:
        raise ExpiredLink("this link has expired") from error
    except BadSignature as error:
        raise ValueError("this link is not valid") from error
    return data["report"], data["action"]


def tracking_token(report: Report) -> str:
    """The secret of the reporter's private tracking link: an HMAC of the report id, so it
    needs no storage and a retried submission gets the same link."""
    key = current_app.secret_key.encode()
    digest = hmac.new(key, f"tracking:{report.id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode()


def tracking_url(report: Report, external: bool = False) -> str:
    """The reporter's private page for `report`."""
    path = f"/track/{report.reference}/{tracking_token(report)}"
    return current_app.config["BASE_URL"].rstrip("/") + path if external else path


def check_tracking_token(report: Report, token: str) -> bool:
    """Whether `token` is the report's, compared in constant time: as bytes, since
    compare_digest refuses a str with non-ASCII characters (a TypeError, not a "no")."""
    return hmac.compare_digest(tracking_token(report).encode(), token.encode("utf-8", "replace"))


def _unsubscribe_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="reporter-unsubscribe")


def reporter_unsubscribe_url(report: Report) -> str:
    """The absolute URL at the bottom of each email to the reporter: it stops their emails
    about `report` (after a confirmation). It does not expire: an old email's link must still
    work."""
    base = current_app.config["BASE_URL"].rstrip("/")
    token = _unsubscribe_serializer().dumps({"report": report.id})
    return f"{base}/reports/{report.reference}/unsubscribe/{token}"


def load_reporter_unsubscribe(token: str) -> int:
    """The id of the report whose reporter's unsubscribe link carries `token`. Raises
    ValueError if it is forged."""
    try:
        return int(_unsubscribe_serializer().loads(token)["report"])
    except (BadSignature, KeyError, TypeError, ValueError) as error:
        raise ValueError("this link is not valid") from error
