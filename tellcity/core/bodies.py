"""JSON request bodies, read in one place: the app's Request class (installed by
tellcity.core.security). Whichever view calls `request.get_json()`, the body it gets back

- is at most JSON_MAX_BYTES (1 MB by default, far below the photo uploads' MAX_CONTENT_LENGTH):
  a larger one is a 413 before it is read;
- is nested at most MAX_DEPTH deep: a deeper one is a 400 (code too_deep), found by scanning
  its brackets before parsing, so the parser never nears Python's recursion limit;
- holds no NUL (400, nul_byte: PostgreSQL cannot store one) and no lone surrogate or invalid
  UTF-8 (400, invalid_text: no database can store one), in any key or value.

A refusal is a Malformed (tellcity.core.errors), raised where the view reads the body (before
it writes anything; an error answer rolls the request back anyway) and answered in the shape
of the route: /api/v1's error body, Open311's error list. Query strings and forms are checked
in tellcity.core.security. `load_json` is the same reader for JSON that arrives another way
(an administrator's questions or zones file, a staff page's cursor).

The depth scan costs about what parsing does at worst (1 MB of empty arrays: 130 ms to scan,
200 ms to parse, on the development machine) and nothing to speak of for a report (0.1 ms)."""

import json
import re

from flask import Request as FlaskRequest
from flask import current_app
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from tellcity.core.errors import Malformed

#: How deep arrays and objects may nest in a JSON body: a report is 2 deep.
MAX_DEPTH = 32

#: A JSON string, or what is left of one that never ends; then a bracket. Each match ends
#: where the next begins, so a scan is linear whatever the text.
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)
#: What no text we store may hold.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def load_json(data: bytes | str):
    """The document `data` holds. Raises Malformed when it is nested deeper than MAX_DEPTH or
    holds a NUL or text that is not Unicode, ValueError when it is not JSON."""
    text = _decoded(data) if isinstance(data, bytes) else data
    if _too_deep(text):
        raise Malformed(
            _("The JSON is nested too deeply (at most %(depth)s levels).", depth=MAX_DEPTH),
            code="too_deep",
        )
    document = json.loads(text)
    _check_text(document)
    return document


def _decoded(data: bytes) -> str:
    try:
        return data.decode(json.detect_encoding(data))
    except UnicodeDecodeError:
        raise _invalid_text() from None


def _too_deep(text: str) -> bool:
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match[0]
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif token in "]}":
            depth -= 1
    return False


def _check_text(value) -> None:
    """Raises Malformed for a NUL or a lone surrogate in any string of `value` (recursing at
    most MAX_DEPTH deep)."""
    if isinstance(value, str):
        found = _UNSTORABLE.search(value)
        if found is None:
            return
        if found[0] == "\x00":
            raise Malformed(_("NUL bytes are not allowed in the body."), code="nul_byte")
        raise _invalid_text()
    if isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


def _invalid_text() -> Malformed:
    return Malformed(
        _("The text is not valid Unicode (invalid UTF-8 or a lone surrogate)."),
        code="invalid_text",
    )


class _BoundedJSON:
    """What werkzeug's Request calls to parse a body (its `json_module`)."""

    loads = staticmethod(load_json)


class Request(FlaskRequest):
    """Flask's request, whose JSON body is bounded in size and depth and checked for
    unstorable text (see the module's docstring)."""

    @property
    def json_module(self):
        return _BoundedJSON

    @json_module.setter
    def json_module(self, provider) -> None:
        """Flask gives each request the app's JSON provider to parse its body with; the body is
        parsed here instead (the provider also reads session cookies and responses in tests,
        which need none of these bounds)."""

    @property
    def max_content_length(self) -> int | None:
        limit = FlaskRequest.max_content_length.fget(self)
        if self._max_content_length is not None or not self.is_json:
            return limit
        json_limit = current_app.config["JSON_MAX_BYTES"]
        return json_limit if limit is None else min(limit, json_limit)

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True):
        """The parsed JSON body (see `load_json`); a body larger than JSON_MAX_BYTES is a 413
        saying so, even with `silent`."""
        try:
            return super().get_json(force=force, silent=silent, cache=cache)
        except RequestEntityTooLarge:
            megabytes = current_app.config["JSON_MAX_BYTES"] / 1024 / 1024
            raise RequestEntityTooLarge(
                _("A JSON body is at most %(size)s MB.", size=f"{megabytes:g}")
            ) from None
