"""Serving stored photos and thumbnails to the public."""

from flask import Blueprint, abort, current_app, send_from_directory

from tellcity.photos.queries import public_photo
from tellcity.photos.services import KEY_PATTERN, file_path

bp = Blueprint("photos", __name__)

#: A key names one content for ever, so browsers and proxies may keep it that long.
#: Photos never change, but a moderator may hide one: caches keep it an hour at most.
CACHE_SECONDS = 3600


@bp.get("/media/<key>")
def image(key: str):
    return _send(key, thumbnail=False)


@bp.get("/media/thumbs/<key>")
def thumbnail(key: str):
    return _send(key, thumbnail=True)


def _send(key: str, *, thumbnail: bool):
    """The file of a visible photo, as the type it was stored as. Anything that is not exactly
    a storage key is a 404 before the disk is touched."""
    if not KEY_PATTERN.fullmatch(key):
        abort(404)
    photo = public_photo(key, thumbnail=thumbnail)
    if photo is None:
        abort(404)
    response = send_from_directory(
        current_app.config["UPLOAD_FOLDER"],
        file_path(key),
        mimetype=photo.content_type,
        max_age=CACHE_SECONDS,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
