"""Photos received with a form that comes back (an error to fix, similar reports to look at):
kept, already checked and re-encoded, in the photo store under pending/ with a random token
that the form carries, so the resident never has to choose them again, whichever machine
receives the form next. Stale ones are swept after a day (by every form sent, and by the
worker), on the disk as in an object store."""

import json
import re
import secrets
import time
from dataclasses import asdict, dataclass

from flask import current_app

from tellcity.photos.services import ProcessedPhoto
from tellcity.photos.storage import StorageUnavailable, store

TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")
MAX_AGE_SECONDS = 24 * 3600
FOLDER = "pending/"


@dataclass(frozen=True)
class PendingPhoto:
    token: str
    photo: ProcessedPhoto


def _names(token: str) -> tuple[str, str, str]:
    base = FOLDER + token
    return base + ".image", base + ".thumb", base + ".json"


def tokens(value: str | None) -> list[str]:
    """The valid tokens in a form's hidden field (anything else is ignored)."""
    return [token for token in (value or "").split() if TOKEN.fullmatch(token)][:10]


def stash(photo: ProcessedPhoto) -> str:
    """Keep the photo; its token. Raises what the store's write raises (StorageFull,
    StorageUnavailable), the facts written last so that a photo is found whole or not at all."""
    token = secrets.token_urlsafe(16)
    image, thumb, meta = _names(token)
    # The position the photo carried is not kept: it was only offered to the form.
    facts = {k: v for k, v in asdict(photo).items() if k not in ("image", "thumbnail", "gps")}
    store().write(image, photo.image, photo.content_type)
    store().write(thumb, photo.thumbnail, photo.content_type)
    store().write(meta, json.dumps(facts).encode(), "application/json")
    return token


def load(found: list[str]) -> list[PendingPhoto]:
    """The stashed photos still there, in order. Raises StorageUnavailable when the object
    store cannot be read."""
    photos = []
    for token in found:
        image, thumb, meta = (store().read(name) for name in _names(token))
        if image is None or thumb is None or meta is None:
            continue
        facts = json.loads(meta)
        gps = tuple(facts.pop("gps")) if facts.get("gps") else None
        photos.append(
            PendingPhoto(token, ProcessedPhoto(image=image, thumbnail=thumb, gps=gps, **facts))
        )
    return photos


def drop(value: str | None) -> None:
    """Remove the stashed photos named in a form field, and any left for more than a day."""
    store().delete(name for token in tokens(value) for name in _names(token))
    sweep()


def sweep(now: float | None = None) -> int:
    """Remove the stashed photos left for more than a day (their forms were never sent); how
    many files went. An object store is listed page by page; one that cannot be reached is
    logged and tried again next time."""
    cutoff = (time.time() if now is None else now) - MAX_AGE_SECONDS
    try:
        stale = [item.name for item in store().listing(FOLDER) if item.modified_at < cutoff]
    except StorageUnavailable as error:
        current_app.logger.warning("Could not sweep abandoned photos: %s", error.__cause__)
        return 0
    store().delete(stale)
    return len(stale)
