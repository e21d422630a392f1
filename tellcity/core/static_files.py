"""Static files under content-hashed addresses, cached by browsers for good, and sent compressed.

`url_for("static", filename=...)` adds `?v=<hash>` (the first 12 hex digits of the file's
SHA-256), so a changed file gets a new address and a phone never runs yesterday's script with
today's page. A request carrying the file's current hash is answered with
`Cache-Control: public, max-age=31536000, immutable`: the browser does not even revalidate it.
Without the hash, or with an old one, the file is served as Flask serves it (revalidated each
time), so an old page asking for an old address gets the current file, never cached for good.

Compression itself is Flask-Compress's (pages, JSON and static files alike: Brotli, else gzip,
else zstd, as the client accepts; see COMPRESS_ALGORITHM in tellcity/config.py). Flask serves a
static file as a stream, which Flask-Compress compresses only with its streaming algorithms (no
gzip) and without a length; the file is read into the response instead, so that it is
compressed like a page, with its Content-Length. It is compressed again for each request that
asks for it, which, with a year-long cache, is about once a year per browser (Leaflet: 9 ms at
Brotli's level 6).

Limits: a file's hash is computed once per file per process (on the first page that names it),
so a static file changed under a running process keeps its old hash until the process restarts
(a deployment restarts it; `flask run --debug` restarts on code changes, not static ones). A
file that does not exist gets no hash, and its address is the plain one.
"""

import hashlib
import posixpath
from pathlib import Path

from flask import Flask, Response, current_app, request

#: One year, the longest a browser is asked to keep anything.
IMMUTABLE = "public, max-age=31536000, immutable"
HASH_LENGTH = 12


def file_hash(folder: str, filename: str) -> str | None:
    """The content hash of `filename` under `folder`, or None if there is no such file; computed
    once per process for each file. (The name is normalised as Flask normalises it to serve the
    file, so that "css//a.css" and "css/a.css" are one entry, not one each.)"""
    hashes = current_app.extensions["tellcity.static_hashes"]
    key = (folder, posixpath.normpath(filename))
    if key not in hashes:
        hashes[key] = _hash_of(Path(folder) / filename)
    return hashes[key]


def _hash_of(path: Path) -> str | None:
    try:
        with path.open("rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest()[:HASH_LENGTH]
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def _add_hash(endpoint: str, values: dict) -> None:
    """url_defaults hook: the content hash of the file url_for("static") names, as `v`."""
    if endpoint != "static" or "v" in values or "filename" not in values:
        return
    digest = file_hash(current_app.static_folder, values["filename"])
    if digest:
        values["v"] = digest


def _cache_for_good(response: Response) -> Response:
    """A static file asked for under its current hash is the same forever: cache it for good.
    Its body is read into the response so that Flask-Compress compresses it like a page. (Only
    a file Flask found is looked at: a 200 or a 304, never a name it refused.)"""
    if request.endpoint != "static" or response.status_code not in (200, 304):
        return response
    filename = (request.view_args or {}).get("filename", "")
    if request.args.get("v") and request.args["v"] == file_hash(
        current_app.static_folder, filename
    ):
        response.headers["Cache-Control"] = IMMUTABLE
    if response.status_code == 200 and response.is_streamed:
        stream = response.response
        response.direct_passthrough = False
        response.set_data(response.get_data())
        if hasattr(stream, "close"):
            stream.close()  # the file, read: closed now rather than with the response
    return response


def init_app(app: Flask) -> None:
    app.extensions["tellcity.static_hashes"] = {}
    app.url_defaults(_add_hash)
    # Called after Flask-Compress is bound: after-request functions run last-registered
    # first, so the file is read here before Flask-Compress compresses it.
    app.after_request(_cache_for_good)
