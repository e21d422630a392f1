"""Domain errors, and error pages: HTML for people, a machine-readable JSON body for API
clients. Everything under /api/v1 answers its errors in one shape (api_error), whichever part
of the app raised them: a view, the router (404, 405), the rate limiter (429), a crash (500)
or the database (503)."""

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, ServiceUnavailable


class TellCityError(Exception):
    """Something the domain refuses to do, with a machine-readable `code` and, where one form
    field is at fault, that `field`."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        fields: dict[str, list[str]] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.field = field
        #: Messages by field, where several are at fault at once (e.g. the answers to a
        #: category's questions, keyed "attributes.<code>").
        self.fields = fields or ({field: [message]} if field else {})

    def to_dict(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        if self.fields:
            body["fields"] = self.fields
        return body


class Unauthenticated(TellCityError):
    """The credentials given (an API key) are not valid: no such key, or revoked."""

    status = 401
    code = "invalid_api_key"


class NotAllowed(TellCityError):
    """The actor may not do this."""

    status = 403
    code = "forbidden"


class NotFound(TellCityError):
    """What the request names does not exist (or is not the caller's to know of)."""

    status = 404
    code = "not_found"


class Invalid(TellCityError):
    """The request is understood but its content is wrong."""

    status = 422
    code = "invalid"


class Malformed(TellCityError):
    """The request cannot be read as it is (e.g. a NUL byte in its text)."""

    status = 400
    code = "malformed"


class Conflict(TellCityError):
    """The request clashes with the current state of the data."""

    status = 409
    code = "conflict"


JSON_PREFIXES = ("/api/", "/open311/", "/healthz", "/readyz")
API_PREFIX = "/api/v1/"


def wants_json() -> bool:
    if request.path.startswith(JSON_PREFIXES):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def api_error(status: int, code: str, message: str, fields: dict | None = None) -> Response:
    """The error answer of /api/v1: {"error": {"code": a word a program can test, "message":
    a sentence for a person, "fields": {field: [messages]} when some fields are at fault}}."""
    body = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    response = jsonify(error=body)
    response.status_code = status
    return response


def _is_api() -> bool:
    return request.path.startswith(API_PREFIX)


def handle_http_error(error: HTTPException):
    if _is_api():
        # The status's name as a word: "Method Not Allowed" -> "method_not_allowed".
        response = api_error(error.code, error.name.lower().replace(" ", "_"), error.description)
        response.headers.extend(
            (name, value) for name, value in error.get_headers() if name.lower() != "content-type"
        )
        return response
    if wants_json():
        body = {"error": {"code": error.code, "name": error.name, "message": error.description}}
        return jsonify(body), error.code
    return render_template("errors/error.html", error=error, message=_own_words(error)), error.code


def _own_words(error: HTTPException) -> str | None:
    """What the app said when it raised `error` (abort(404, description=...)), or None where
    the description is werkzeug's own or the rate limiter's ("10 per 1 minute"): in English
    only, so the page says it in the visitor's language instead."""
    if isinstance(error, RateLimitExceeded):
        return None
    default = getattr(type(error), "description", None)
    return error.description if error.description != default else None


def handle_domain_error(error: TellCityError):
    if _is_api():
        return api_error(error.status, error.code, error.message, error.fields)
    if wants_json():
        return jsonify({"error": error.to_dict()}), error.status
    page = render_template("errors/error.html", error=error, message=error.message)
    return page, error.status


def handle_database_down(error: OperationalError):
    """The database is unreachable (restarting, failing over): nothing was written, since the
    request's transaction is rolled back (by the app, before any handler runs: see
    core/transaction.py); say so with a 503 the client may retry."""
    current_app.logger.warning("database unavailable: %s", error.orig or error)
    message = _("The service is briefly unavailable. Nothing was saved: please try again.")
    if wants_json():
        response = api_error(503, "unavailable", message)
    else:
        response = render_template("errors/error.html", error=ServiceUnavailable(), message=message)
    return response, 503, {"Retry-After": "5"}


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(TellCityError, handle_domain_error)
    app.register_error_handler(OperationalError, handle_database_down)
