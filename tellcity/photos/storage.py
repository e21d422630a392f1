"""Where photo files are kept: the upload folder of this machine (the default, right for one
server and the embedded demo), or an S3-compatible object store that every machine of a city
shares, through boto3, when PHOTO_STORAGE (TELLCITY_PHOTO_STORAGE) is `s3://bucket/prefix`.

A file has a name relative to the store: `ab/<key>` for a photo or a thumbnail (see
services.file_path), `pending/<token>.image` for a form's photo kept until the form is sent
(pending.py). Services write, read, list and delete by these names through `store()`; nothing
else knows which store is in use. On S3 the object's key is the prefix and the name.

The S3 client is boto3's, configured the standard way: credentials, region and endpoint from
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL (or
AWS_ENDPOINT_URL_S3), AWS_PROFILE and the AWS config files, an instance role... It is made once
per app (so once per process), and boto3 clients are safe to share between threads. Only its
timeouts are ours (PHOTO_STORAGE_TIMEOUT), and three attempts in boto3's "standard" retry mode
unless AWS_MAX_ATTEMPTS or AWS_RETRY_MODE say otherwise: a resident should not wait a minute for
a store that is down.

Photos are streamed through the app's own URLs (/media/<key>), never handed out as presigned
links to the bucket. A presigned link stays good until it expires, whatever happens meanwhile:
a photo a moderator hides, or the report of a resident whose data is erased, would stay visible
to whoever holds the link (and in every cache it went through). Behind the app's URL, each
request asks the database first, so hiding takes effect at once, and the bucket stays private.
The price is that the bytes pass through the app, in chunks of CHUNK_BYTES (a photo is at most
2048 pixels a side, a few hundred kilobytes): `bench/photos.py` measures what S3 adds.

A store that cannot be reached (or refuses us) raises StorageUnavailable, a 503 whose message
is for the resident: a submission carrying photos is then refused with nothing written, and its
text is kept in the form that comes back (see reports/views/submit.py).
"""

import os
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Response, current_app, request, send_from_directory
from flask_babel import gettext as _
from werkzeug.exceptions import NotFound
from werkzeug.wsgi import wrap_file

from tellcity.core.errors import TellCityError

#: Bytes read from the store and sent to the browser at a time.
CHUNK_BYTES = 64 * 1024
#: Seconds to wait for the object store to connect or to answer (PHOTO_STORAGE_TIMEOUT).
DEFAULT_TIMEOUT = 5
#: S3 deletes at most this many objects a request.
DELETE_BATCH = 1000

STORAGE_FULL = (
    "La photo n'a pas pu être enregistrée : le serveur manque de place. Réessayez plus tard."
)

_EXTENSION = "tellcity.photo_store"
_lock = threading.Lock()


class StorageFull(TellCityError):
    """The photo could not be written (disk full, most likely); nothing of it was kept."""

    status = 507
    code = "storage_full"


class StorageUnavailable(TellCityError):
    """The object store could not be reached or refused the request; nothing was written."""

    status = 503
    code = "photo_storage_unavailable"


def cannot_save() -> StorageUnavailable:
    return StorageUnavailable(
        _(
            "Photos cannot be saved right now. Try again in a few minutes, or send your"
            " report without its photos."
        ),
        field="photos",
    )


def cannot_show() -> StorageUnavailable:
    return StorageUnavailable(_("Photos cannot be shown right now. Try again in a few minutes."))


@dataclass(frozen=True)
class Listed:
    """A file found by a listing: its name and when it was last written (POSIX seconds)."""

    name: str
    modified_at: float


def store() -> "LocalStore | S3Store":
    """The app's photo store, made on first use (and again if its settings change, which only
    tests do)."""
    config = current_app.config
    setting = (
        config.get("PHOTO_STORAGE") or "",
        config["UPLOAD_FOLDER"],
        float(config.get("PHOTO_STORAGE_TIMEOUT") or DEFAULT_TIMEOUT),
    )
    cached = current_app.extensions.get(_EXTENSION)
    if cached is None or cached[0] != setting:
        with _lock:
            cached = current_app.extensions.get(_EXTENSION)
            if cached is None or cached[0] != setting:
                cached = (setting, _open(*setting))
                current_app.extensions[_EXTENSION] = cached
    return cached[1]


def _open(url: str, folder: str, timeout: float) -> "LocalStore | S3Store":
    if not url:
        return LocalStore(folder)
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(
            f"PHOTO_STORAGE must be empty (the upload folder) or s3://bucket/prefix, not {url!r}"
        )
    prefix = parts.path.strip("/")
    return S3Store(parts.netloc, f"{prefix}/" if prefix else "", _s3_client(timeout))


def _s3_client(timeout: float):
    """A client configured by boto3's standard chain, with our timeouts and retries."""
    import boto3
    from botocore.config import Config

    options = {"connect_timeout": timeout, "read_timeout": timeout}
    if not (os.environ.get("AWS_MAX_ATTEMPTS") or os.environ.get("AWS_RETRY_MODE")):
        options["retries"] = {"mode": "standard", "max_attempts": 3}
    # A session of its own: boto3's default session is not safe to share between threads.
    return boto3.session.Session().client("s3", config=Config(**options))


class LocalStore:
    """Files under a folder of this machine."""

    def __init__(self, folder: str):
        self.folder = folder

    def __repr__(self) -> str:
        return f"<LocalStore {self.folder}>"

    def _path(self, name: str) -> str:
        return os.path.join(self.folder, name)

    def write(self, name: str, content: bytes, content_type: str) -> None:
        """Write to a temporary file beside the file, then rename it into place: a reader never
        sees half a file, and a failed write leaves nothing behind. Raises StorageFull."""
        path = self._path(name)
        try:
            folder = os.path.dirname(path)
            os.makedirs(folder, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-")
        except OSError as error:
            raise _full(error) from error
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(content)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException as error:
            with suppress(OSError):
                os.unlink(temporary)
            if isinstance(error, OSError):
                raise _full(error) from error
            raise

    def read(self, name: str) -> bytes | None:
        """The file's content; None when it cannot be read (gone, most likely)."""
        try:
            with open(self._path(name), "rb") as file:
                return file.read()
        except OSError:
            return None

    def send(self, name: str, content_type: str, max_age: int) -> Response:
        """The file as a response (conditional and range requests answered); 404 if gone."""
        return send_from_directory(self.folder, name, mimetype=content_type, max_age=max_age)

    def delete(self, names: Iterable[str]) -> None:
        """Remove the files; those already gone are fine, one that cannot be removed is logged."""
        for name in names:
            try:
                os.unlink(self._path(name))
            except FileNotFoundError:
                pass
            except OSError as error:
                current_app.logger.warning("Could not remove photo file %s: %s", name, error)

    def listing(self, folder: str) -> Iterator[Listed]:
        """The files directly in `folder` (a name ending in "/")."""
        try:
            with os.scandir(self._path(folder)) as entries:
                found = [
                    (entry.name, entry.stat().st_mtime) for entry in entries if entry.is_file()
                ]
        except FileNotFoundError:
            return
        for name, modified_at in found:
            yield Listed(folder + name, modified_at)


class S3Store:
    """Objects in a bucket of an S3-compatible store, under a prefix."""

    def __init__(self, bucket: str, prefix: str, client):
        self.bucket, self.prefix, self.client = bucket, prefix, client

    def __repr__(self) -> str:
        return f"<S3Store s3://{self.bucket}/{self.prefix}>"

    def write(self, name: str, content: bytes, content_type: str) -> None:
        """Store the object whole (S3 never shows half an object). Raises StorageUnavailable."""
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=self.prefix + name, Body=content, ContentType=content_type
            )
        except _errors() as error:
            current_app.logger.error("Could not store a photo in s3://%s: %s", self.bucket, error)
            raise cannot_save() from error

    def read(self, name: str) -> bytes | None:
        """The object's content; None when there is no such object. Raises StorageUnavailable."""
        obj = self._get(name, cannot_save)
        if obj is None:
            return None
        with obj["Body"] as body:
            try:
                return body.read()
            except _errors() as error:
                raise cannot_save() from error

    def send(self, name: str, content_type: str, max_age: int) -> Response:
        """The object streamed in chunks, with its length, ETag and date so that conditional
        requests are answered (304); 404 if gone; StorageUnavailable if the store is down.
        Ranges are not offered: the whole photo is always small."""
        obj = self._get(name, cannot_show)
        if obj is None:
            raise NotFound()
        response = Response(
            wrap_file(request.environ, obj["Body"], CHUNK_BYTES),
            mimetype=content_type,
            direct_passthrough=True,
        )
        response.content_length = obj["ContentLength"]
        response.set_etag(obj["ETag"].strip('"'))
        response.last_modified = obj["LastModified"]
        response.cache_control.public = True
        response.cache_control.max_age = max_age
        return response.make_conditional(request.environ)

    def delete(self, names: Iterable[str]) -> None:
        """Remove the objects, a thousand a request; those already gone are fine, a failure is
        logged (an object left behind is never served without its row)."""
        names = list(names)
        for start in range(0, len(names), DELETE_BATCH):
            batch = names[start : start + DELETE_BATCH]
            objects = [{"Key": self.prefix + name} for name in batch]
            try:
                answer = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True}
                )
            except _errors() as error:
                current_app.logger.warning(
                    "Could not remove %d photo objects: %s", len(batch), error
                )
                continue
            for failure in answer.get("Errors", []):
                current_app.logger.warning(
                    "Could not remove photo object %s: %s", failure.get("Key"), failure.get("Code")
                )

    def listing(self, folder: str) -> Iterator[Listed]:
        """The objects under `folder` (a name ending in "/"), page by page. Raises
        StorageUnavailable."""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix + folder
        )
        try:
            for page in pages:
                for obj in page.get("Contents", []):
                    name = obj["Key"][len(self.prefix) :]
                    yield Listed(name, obj["LastModified"].timestamp())
        except _errors() as error:
            raise cannot_show() from error

    def _get(self, name: str, failure) -> dict | None:
        """get_object's answer, its body not read yet; None when there is no such object."""
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.prefix + name)
        except _errors() as error:
            if _is_missing(error):
                return None
            current_app.logger.error("Could not read a photo from s3://%s: %s", self.bucket, error)
            raise failure() from error


def _full(error: OSError) -> StorageFull:
    current_app.logger.error("Could not store a photo: %s", error)
    return StorageFull(STORAGE_FULL)


def _is_missing(error: Exception) -> bool:
    """Whether the store said there is no such object (NoSuchKey, or a bare 404 from some
    S3-compatible stores)."""
    code = getattr(error, "response", {}).get("Error", {}).get("Code")
    return code in ("NoSuchKey", "404", "NotFound")


def _errors() -> tuple[type[Exception], ...]:
    """What boto3 raises when the store is unreachable, slow, or says no."""
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)
