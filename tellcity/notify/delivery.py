"""Sending one outbox message: an email over SMTP, a JSON webhook over HTTP, or a report
POSTed to a department's Open311 system (tellcity.open311.client.sending).

Emails carry `Message-ID: <{message_id}@tellcity>` and `Auto-Submitted: auto-generated`; they
are multipart/alternative when the message has an HTML part. Extra headers queued with a message
(`payload["headers"]`, e.g. List-Unsubscribe) are added.

Webhooks are an HTTP POST of the message's JSON payload (UTF-8) with these headers:

    Content-Type: application/json
    X-TellCity-Message-Id: <message id>     the same on every retry of one message
    X-TellCity-Timestamp: <unix seconds>    when this attempt was made
    X-TellCity-Signature: sha256=<hex>      HMAC-SHA256, keyed with the department's
                                            webhook_secret, of "<timestamp>.<raw body>"

A receiver verifies a call by computing the HMAC of the timestamp header, a dot and the raw
request body with the shared secret, comparing it to the signature in constant time, and
refusing timestamps more than a few minutes old (replays). It should answer 2xx once it has the
message, and drop a message id it has already seen: a message is sent again when no answer came.
Any 2xx is success; any other status (redirects are not followed), or no answer, is a failure to
retry. A department with no webhook_secret gets unsigned calls (no signature header).
"""

import functools
import hashlib
import hmac
import json
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import urlsplit

from flask import current_app

from tellcity.core.db import utcnow
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.notify.models import Channel, OutboxMessage
from tellcity.notify.services import compose_email

#: How much of a failing receiver's answer is kept in last_error.
ERROR_EXCERPT = 300


class DeliveryError(Exception):
    """The message could not be delivered this time; the text says why."""


class PermanentDeliveryError(DeliveryError):
    """The receiver refused the message for good (sending it again would be refused again):
    the message is not retried; it ends dead at once, for staff to look at."""


def is_last_attempt(message: OutboxMessage) -> bool:
    """Whether the attempt being made at `message` is its last: failing, it dies (the worker's
    rule, OUTBOX_MAX_ATTEMPTS), so a channel can leave word of what was given up."""
    return message.attempts + 1 >= current_app.config["OUTBOX_MAX_ATTEMPTS"]


def deliver(message: OutboxMessage) -> None:
    """Send `message` by its channel. Raises DeliveryError when it was not delivered."""
    if message.channel == Channel.EMAIL:
        send_email(message)
    elif message.channel == Channel.WEBHOOK:
        send_webhook(message)
    elif message.channel == Channel.OPEN311:
        from tellcity.open311.client.sending import send  # it builds on this module

        send(message)
    else:
        raise DeliveryError(f"unknown channel {message.channel!r}")


# Email


def build_email(message: OutboxMessage) -> EmailMessage:
    """The email of an outbox message, ready for SMTP."""
    config = current_app.config
    email = EmailMessage()
    email["From"] = config["MAIL_SENDER"]
    email["To"] = message.recipient
    subject, text, html = compose_email(message)
    email["Subject"] = subject
    email["Date"] = format_datetime(utcnow())
    email["Message-ID"] = f"<{message.message_id}@tellcity>"
    email["Auto-Submitted"] = "auto-generated"
    for name, value in ((message.payload or {}).get("headers") or {}).items():
        email[name] = value
    email.set_content(text)
    if html:
        email.add_alternative(html, subtype="html")
    return email


def send_email(message: OutboxMessage) -> None:
    """Hand the email to the configured SMTP server (STARTTLS or TLS, and a login, when
    configured). Raises DeliveryError if the server is unreachable or refuses it."""
    email = build_email(message)
    try:
        with _smtp_connection() as smtp:
            smtp.send_message(email)
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryError(f"SMTP: {_describe(error)}") from error


def _smtp_connection() -> smtplib.SMTP:
    config = current_app.config
    host, port, timeout = config["MAIL_SERVER"], int(config["MAIL_PORT"]), config["MAIL_TIMEOUT"]
    if config["MAIL_USE_SSL"]:
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=_tls_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
            smtp.starttls(context=_tls_context())
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
    except BaseException:
        smtp.close()
        raise
    return smtp


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The system's CA certificates, verified hostnames. Loading them takes tens of
    milliseconds, so once per process."""
    return ssl.create_default_context()


# Webhooks


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-TellCity-Signature value of `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def send_webhook(message: OutboxMessage) -> None:
    """POST the message's payload to its URL, signed. Raises DeliveryError unless the
    receiver answers 2xx."""
    url = message.recipient
    if urlsplit(url).scheme not in ("http", "https"):
        raise DeliveryError(f"webhook URL must be http or https: {url!r}")
    body = json.dumps(message.payload, ensure_ascii=False, separators=(",", ":")).encode()
    request = urllib.request.Request(url, data=body, method="POST")
    for name, value in _webhook_headers(message, body).items():
        request.add_header(name, value)
    timeout = current_app.config["WEBHOOK_TIMEOUT"]
    try:
        with _opener().open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        raise DeliveryError(f"HTTP {error.code}: {_answer(error)}") from error
    except (urllib.error.URLError, OSError) as error:
        raise DeliveryError(f"webhook: {_describe(error)}") from error
    if not 200 <= status < 300:
        raise DeliveryError(f"HTTP {status}")


def _webhook_headers(message: OutboxMessage, body: bytes) -> dict[str, str]:
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "TellCity-Webhook/1",
        "X-TellCity-Message-Id": message.message_id,
        "X-TellCity-Timestamp": timestamp,
    }
    secret = _webhook_secret(message)
    if secret:
        headers["X-TellCity-Signature"] = sign(secret, timestamp, body)
    return headers


def _webhook_secret(message: OutboxMessage) -> str | None:
    """The current secret of the department the call is for: a rotated secret applies to
    messages queued before the rotation too."""
    department_id = ((message.payload or {}).get("department") or {}).get("id")
    department = db.session.get(Department, department_id) if department_id else None
    return department.webhook_secret if department else None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer other than 2xx: a failure, never a POST turned into a GET."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(_NoRedirects)


def _answer(error: urllib.error.HTTPError) -> str:
    try:
        text = error.read(ERROR_EXCERPT).decode("utf-8", "replace")
    except OSError:
        text = ""
    finally:
        error.close()
    return " ".join(text.split()) or error.reason or ""


def _describe(error: BaseException) -> str:
    reason = getattr(error, "reason", None)
    text = str(reason if reason is not None else error) or type(error).__name__
    return f"{type(error).__name__}: {text}"[:ERROR_EXCERPT]
