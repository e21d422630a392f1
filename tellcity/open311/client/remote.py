"""Talking to a department's Open311 system over HTTP: GET a JSON document, POST a form, each
with a timeout (OPEN311_TIMEOUT), no redirects followed, an answer of at most MAX_ANSWER bytes
read by the same bounded loader as our own requests' bodies (core.bodies.load_json: no NUL, no
text that is not Unicode, not nested too deep; what it refuses could not be stored). What can
go wrong is one of two exceptions: RemoteUnavailable (no answer, a timeout, a 5xx, an answer
that is not such JSON or is too long: try again later) and RemoteRefused (a 4xx: the remote's
own words, in Open311's error shape [{code, description}] when it gave one; sending the same
again would be refused again)."""

import json
import urllib.error
import urllib.parse
import urllib.request

from flask import current_app

from tellcity.core.bodies import load_json
from tellcity.core.errors import Malformed

#: How much of a remote's answer is kept in an error.
EXCERPT = 500
#: The longest answer read (a page of 1,000 requests with their notes is about 1 MB).
MAX_ANSWER = 10 * 1024 * 1024


class RemoteError(Exception):
    """The remote did not give what was asked; the text says why, in its words if any."""


class RemoteUnavailable(RemoteError):
    """No usable answer this time (unreachable, timed out, 5xx, not JSON)."""


class RemoteRefused(RemoteError):
    """A 4xx answer: `status`, and the remote's words (its Open311 errors' descriptions)."""

    def __init__(self, status: int, words: str):
        super().__init__(f"HTTP {status}: {words}")
        self.status = status
        self.words = words


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def url(endpoint: str, path: str, **query) -> str:
    """`path` under the endpoint (its base URL), with the `query` parameters that are set."""
    address = f"{endpoint.rstrip('/')}/{path}"
    params = {name: value for name, value in query.items() if value not in (None, "")}
    return f"{address}?{urllib.parse.urlencode(params)}" if params else address


def quote(segment: str) -> str:
    """`segment` safe in a path (a service code, a token, an id)."""
    return urllib.parse.quote(segment, safe="")


def get_json(address: str):
    """The JSON document at `address`."""
    request = urllib.request.Request(address, headers={"Accept": "application/json"})
    return _exchange(request)


def post_form(address: str, fields: list[tuple[str, str]], headers: dict[str, str]):
    """POST `fields` form-encoded (UTF-8) to `address`; the JSON answer."""
    body = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(address, data=body, method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
    request.add_header("Accept", "application/json")
    for name, value in headers.items():
        request.add_header(name, value)
    return _exchange(request)


def _exchange(request: urllib.request.Request):
    timeout = current_app.config["OPEN311_TIMEOUT"]
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            status, raw = response.status, response.read(MAX_ANSWER + 1)
    except urllib.error.HTTPError as error:
        try:
            raw = error.read(EXCERPT * 20)
        except OSError:
            raw = b""
        finally:
            error.close()
        if 400 <= error.code < 500 and error.code not in (408, 429):
            raise RemoteRefused(error.code, _words(raw) or str(error.reason)) from error
        raise RemoteUnavailable(f"HTTP {error.code}: {_words(raw) or error.reason}") from error
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        raise RemoteUnavailable(f"{type(error).__name__}: {reason}"[:EXCERPT]) from error
    if not 200 <= status < 300:
        raise RemoteUnavailable(f"HTTP {status}")
    if len(raw) > MAX_ANSWER:
        raise RemoteUnavailable(f"an answer longer than {MAX_ANSWER} bytes")
    try:
        return load_json(raw)
    except (ValueError, Malformed) as error:
        raise RemoteUnavailable(f"not JSON we can read: {_excerpt(raw)}") from error


def _words(raw: bytes) -> str:
    """What a failing remote said: its Open311 errors' descriptions, else its text."""
    try:
        document = json.loads(raw)
    except ValueError:
        return _excerpt(raw)
    errors = document if isinstance(document, list) else [document]
    words = [
        str(error.get("description") or error.get("code") or "")
        for error in errors
        if isinstance(error, dict)
    ]
    return "; ".join(word for word in words if word)[:EXCERPT] or _excerpt(raw)


def _excerpt(raw: bytes) -> str:
    return " ".join(raw[:EXCERPT].decode("utf-8", "replace").split())
