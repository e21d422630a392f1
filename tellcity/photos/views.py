"""Serving stored photos and thumbnails to the public, from the photo store through these URLs
(streamed, never a redirect to the bucket: see storage.py), so that hiding a photo or its report
takes effect at once."""

from flask import Blueprint, abort

from tellcity.photos.queries import public_photo
from tellcity.photos.services import KEY_PATTERN, file_path
from tellcity.photos.storage import store

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
    a storage key is a 404 before the store is asked."""
    if not KEY_PATTERN.fullmatch(key):
        abort(404)
    photo = public_photo(key, thumbnail=thumbnail)
    if photo is None:
        abort(404)
    response = store().send(file_path(key), photo.content_type, CACHE_SECONDS)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
