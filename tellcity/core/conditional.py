"""Answers that clients poll, sent again only when they would differ: a weak ETag made of what
the answer depends on, known before it is built (the city's public version,
tellcity.reports.versions; its configuration's version; the language; the format; the question
asked, as parsed), so that a client that sends it back in If-None-Match gets a 304 for the cost
of a primary-key lookup, with nothing read, rendered or compressed.

Weak, because the same answer is sent in several encodings (Flask-Compress leaves a weak ETag
as it is, and appends the encoding to a strong one)."""

import hashlib
from collections.abc import Callable

from flask import Response, make_response, request
from flask.typing import ResponseReturnValue


def unless_unchanged(parts: tuple, build: Callable[[], ResponseReturnValue]) -> Response:
    """A 304 if the client holds the answer `parts` identify; else the answer `build` makes,
    with that identity as its ETag (when it is a 200). Either way, "no-cache": clients and
    proxies may keep the answer but ask again before using it."""
    tag = hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()
    if request.if_none_match.contains_weak(tag):
        response = Response(status=304)
    else:
        response = make_response(build())
    if response.status_code in (200, 304):
        response.set_etag(tag, weak=True)
    response.headers["Cache-Control"] = "no-cache"
    response.vary.update(("Accept-Language", "Cookie"))
    return response
