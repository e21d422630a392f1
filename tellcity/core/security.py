"""Security headers on every response: what the browser may load and run, and how; and what
no request may carry (NUL bytes; JSON bodies too large, too deep or not Unicode)."""

from urllib.parse import urlsplit

from flask import Flask, get_flashed_messages, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _

from tellcity.core.bodies import Request
from tellcity.core.errors import Malformed


def content_security_policy(tile_url: str) -> str:
    """Scripts and styles from this site only (no inline script anywhere); images also from
    the map's tile server and the photo previews (blob:)."""
    parts = urlsplit(tile_url.replace("{s}", "a"))
    tiles = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    tile_hosts = f"{tiles} {tiles.replace('://a.', '://*.')}" if tiles else ""
    return "; ".join(
        [
            "default-src 'self'",
            f"img-src 'self' data: blob: {tile_hosts}".strip(),
            "script-src 'self'",
            "style-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ]
    )


#: The bodies werkzeug parses into request.form.
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def _refuse_nul_bytes():
    """No text we store or search may hold a NUL byte (PostgreSQL refuses them): a request
    carrying one in its path, query string or form (a name, any of a name's values, an
    uploaded file's name) is a 400, before any view runs. (Only a form's types have a form to read:
    parsing none for a JSON body costs more than the check. JSON bodies are checked as they
    are read: tellcity.core.bodies.) Lone surrogates cannot come this way: werkzeug leaves a
    percent-encoding that is not UTF-8 as it was sent, `%ED%A0%80` stays those nine characters."""
    texts = [request.path, *_texts(request.args)] if request.query_string else [request.path]
    if request.mimetype in FORM_TYPES:
        texts += _texts(request.form)
        texts += (upload.filename or "" for _name, upload in request.files.items(multi=True))
    if any("\x00" in text for text in texts if text):  # a multipart part may have no name
        raise Malformed(_("NUL bytes are not allowed in parameters."), code="nul_byte")


def _texts(params) -> list[str]:
    """Every name and value of a MultiDict, a name's repeated values included."""
    return [text for pair in params.items(multi=True) for text in pair]


#: The header the service worker sends with the pages it keeps for offline use (pwa/sw.js).
KEEP_HEADER = "X-TellCity-Keep"


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed session cookie, with its signer made once for the app's keys rather than
    on every request (a fiftieth of an app's submission, which has no session at all).

    A page the service worker fetches to keep for offline use, for a visitor who has no
    session yet, starts none: on a first visit its answer could come after the form page the
    visitor opened meanwhile and replace that page's session, and with it the CSRF token of
    the form in front of them, which would then be refused. (A kept copy is sent without its
    token anyway: static/js/report-send.js.)"""

    def should_set_cookie(self, app: Flask, session) -> bool:
        if KEEP_HEADER in request.headers and self.get_cookie_name(app) not in request.cookies:
            return False
        return super().should_set_cookie(app, session)

    def get_signing_serializer(self, app: Flask):
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        kept = app.extensions.get("tellcity.session_signer")
        if kept is None or kept[0] != keys:
            kept = app.extensions["tellcity.session_signer"] = (
                keys,
                super().get_signing_serializer(app),
            )
        return kept[1]


def flashed_messages(*args, **kwargs) -> list:
    """The messages flashed for the visitor's next page (Flask's get_flashed_messages), unless
    this page is one the service worker keeps for offline use: a kept copy neither shows them
    later, offline, nor takes them from the page the visitor is being sent to ("You are
    signed out", while the worker keeps the signed-out pages again)."""
    if KEEP_HEADER in request.headers:
        return []
    return get_flashed_messages(*args, **kwargs)


def init_app(app: Flask) -> None:
    app.request_class = Request
    app.session_interface = SessionInterface()
    policy = content_security_policy(app.config["MAP_TILE_URL"])
    app.before_request(_refuse_nul_bytes)
    app.jinja_env.globals["get_flashed_messages"] = flashed_messages

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
