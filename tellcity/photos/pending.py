"""Photos received with a form that comes back (an error to fix, similar reports to look at):
kept, already checked and re-encoded, under uploads/pending/ with a random token that the form
carries, so the resident never has to choose them again. Stale ones are swept after a day."""

import contextlib
import json
import os
import re
import secrets
import time
from dataclasses import asdict, dataclass

from flask import current_app

from tellcity.photos.services import ProcessedPhoto

TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")
MAX_AGE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class PendingPhoto:
    token: str
    photo: ProcessedPhoto


def _folder() -> str:
    folder = os.path.join(current_app.config["UPLOAD_FOLDER"], "pending")
    os.makedirs(folder, exist_ok=True)
    return folder


def _paths(token: str) -> tuple[str, str, str]:
    base = os.path.join(_folder(), token)
    return base + ".image", base + ".thumb", base + ".json"


def tokens(value: str | None) -> list[str]:
    """The valid tokens in a form's hidden field (anything else is ignored)."""
    return [token for token in (value or "").split() if TOKEN.fullmatch(token)][:10]


def stash(photo: ProcessedPhoto) -> str:
    token = secrets.token_urlsafe(16)
    image, thumb, meta = _paths(token)
    # The position the photo carried is not kept: it was only offered to the form.
    facts = {k: v for k, v in asdict(photo).items() if k not in ("image", "thumbnail", "gps")}
    for path, content in (
        (image, photo.image),
        (thumb, photo.thumbnail),
        (meta, json.dumps(facts).encode()),
    ):
        with open(path, "wb") as f:
            f.write(content)
    return token


def load(found: list[str]) -> list[PendingPhoto]:
    """The stashed photos still there, in order."""
    photos = []
    for token in found:
        image, thumb, meta = _paths(token)
        try:
            with open(meta) as f:
                facts = json.load(f)
            with open(image, "rb") as f, open(thumb, "rb") as g:
                content, thumbnail = f.read(), g.read()
        except OSError:
            continue
        gps = tuple(facts.pop("gps")) if facts.get("gps") else None
        photos.append(
            PendingPhoto(
                token, ProcessedPhoto(image=content, thumbnail=thumbnail, gps=gps, **facts)
            )
        )
    return photos


def drop(value: str | None) -> None:
    """Remove the stashed photos named in a form field, and any left for more than a day."""
    for token in tokens(value):
        for path in _paths(token):
            _remove(path)
    cutoff = time.time() - MAX_AGE_SECONDS
    with os.scandir(_folder()) as entries:
        for entry in entries:
            if entry.is_file() and entry.stat().st_mtime < cutoff:
                _remove(entry.path)


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)
