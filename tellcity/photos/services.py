"""Photos: an upload is judged by its content, cleaned (orientation applied, every piece of
metadata dropped, resized, thumbnail made) and stored with a random name in the photo store
(storage.py: the upload folder, or an S3-compatible bucket).

The GPS position a photo carries is read before cleaning so the form can offer it to place the
pin; it is never stored. Refusals raise PhotoRefused, whose message is for the resident.
`store_photo` flushes; the caller commits. Should the transaction be rolled back instead (a
refusal after the photos, a commit that fails), the files are removed with it, so that no file
outlives its row; and once a photo's row is deleted and committed (with its report, say), its
files are removed from the store too.
"""

import hashlib
import io
import math
import re
import secrets
import struct
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import current_app
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError

from tellcity.core.errors import Invalid, TellCityError
from tellcity.core.transaction import after_commit, on_rollback
from tellcity.extensions import db
from tellcity.photos.storage import StorageFull, StorageUnavailable, store
from tellcity.reports.models import Photo, Report, ReportEvent

#: The stored photo fits in this square, the thumbnail in the smaller one (pixels).
MAX_SIDE = 2048
THUMBNAIL_SIDE = 320
QUALITY = 85
DEFAULT_MAX_BYTES = 15 * 1024 * 1024
DEFAULT_MAX_PIXELS = 40_000_000

# Pillow's own decompression-bomb limit, a second line behind the size check made right after
# opening: it warns past this many pixels (a refusal here) and raises past twice as many.
Image.MAX_IMAGE_PIXELS = DEFAULT_MAX_PIXELS

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
#: Every storage key, and nothing else: 32 URL-safe random characters and an extension.
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{32}\.(?:jpg|png|webp)")

#: For the kind the first bytes announce, the formats Pillow may find. MPO is a JPEG holding
#: more than one picture (some cameras and phones add a depth map or a preview); the first
#: picture is the photo.
_FORMATS = {"jpeg": ("JPEG", "MPO"), "png": ("PNG",), "webp": ("WEBP",)}
#: Modes that resize well as they are; the others are converted to RGB(A) first.
_RESIZABLE_MODES = ("RGB", "RGBA", "L", "LA", "CMYK")
_SRGB = ImageCms.createProfile("sRGB")
_GPS_IFD = 0x8825
#: What a damaged EXIF block can make Pillow raise; such a block is ignored, not refused.
_EXIF_ERRORS = (
    KeyError,
    IndexError,
    TypeError,
    ValueError,
    ZeroDivisionError,
    OSError,
    SyntaxError,
    struct.error,
)

NOT_A_PHOTO = "Ce fichier n'est pas une photo JPEG, PNG ou WebP."
EMPTY = "Ce fichier est vide : choisissez une photo."
DAMAGED = "Cette photo est abîmée ou incomplète : essayez de l'envoyer à nouveau."


class PhotoRefused(Invalid):
    """The upload is not a photo we accept; the message says why, for the resident."""

    code = "invalid_photo"

    def __init__(self, message: str):
        super().__init__(message, field="photos")


@dataclass(frozen=True)
class ProcessedPhoto:
    """A cleaned photo, ready to store: encoded image and thumbnail without any metadata, and
    the position the original carried (to offer to the form, never stored)."""

    image: bytes = field(repr=False)
    thumbnail: bytes = field(repr=False)
    content_type: str
    width: int
    height: int
    sha256: str
    gps: tuple[float, float] | None = None


def process_upload(data: bytes) -> ProcessedPhoto:
    """Check an upload by its content and clean it: a real JPEG, PNG or WebP within the size
    limits (PHOTO_MAX_BYTES, PHOTO_MAX_PIXELS, judged before decoding), decoded whole; its
    first frame when it holds several. Orientation applied, colours in sRGB, metadata gone,
    at most MAX_SIDE pixels on the long side; JPEG unless it has transparency (then WebP).

    Raises PhotoRefused: empty, too heavy, too many pixels, not one of the three formats
    (whatever its name says), damaged or truncated.
    """
    with _decoding():
        image = _open_checked(data)
        gps = _gps_of(image)
        image.draft(None, (MAX_SIDE, MAX_SIDE))  # JPEG only: decode at a reduced scale
        image.load()
        picture = _clean(image)
    image_bytes, content_type = _encode(picture)
    thumbnail = picture.copy()
    thumbnail.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    return ProcessedPhoto(
        image=image_bytes,
        thumbnail=_encode(thumbnail)[0],
        content_type=content_type,
        width=picture.width,
        height=picture.height,
        sha256=hashlib.sha256(image_bytes).hexdigest(),
        gps=gps,
    )


def read_gps(data: bytes) -> tuple[float, float] | None:
    """The (lat, lon) a photo's EXIF gives, without decoding or storing anything; None when it
    has none or is not a photo we would accept."""
    try:
        with _decoding():
            image = _open_checked(data)
    except PhotoRefused:
        return None
    return _gps_of(image)


def _limit(name: str, default: int) -> int:
    return int(current_app.config.get(name) or default)


@contextmanager
def _decoding() -> Iterator[None]:
    """Pillow's complaints while opening or decoding an upload, as refusals."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise PhotoRefused(_too_many_pixels()) from error
        except UnidentifiedImageError as error:
            raise PhotoRefused(NOT_A_PHOTO) from error
        except (OSError, SyntaxError, ValueError, EOFError, struct.error) as error:
            raise PhotoRefused(DAMAGED) from error


def _too_many_pixels() -> str:
    megapixels = _decimal(_limit("PHOTO_MAX_PIXELS", DEFAULT_MAX_PIXELS) / 1_000_000)
    return f"Cette photo est trop grande : {megapixels} millions de pixels au plus."


def _decimal(number: float) -> str:
    """A number as French writes it: 15, 2,5."""
    return f"{number:.3g}".replace(".", ",")


def _open_checked(data: bytes) -> Image.Image:
    """Open (read the header only) an upload whose first bytes and Pillow agree it is one of
    the accepted formats, and whose size is within the limits."""
    if not data:
        raise PhotoRefused(EMPTY)
    max_bytes = _limit("PHOTO_MAX_BYTES", DEFAULT_MAX_BYTES)
    if len(data) > max_bytes:
        megabytes = _decimal(max_bytes / 2**20)
        raise PhotoRefused(f"Cette photo est trop lourde : {megabytes} Mo au plus.")
    kind = _sniff(data)
    if kind is None:
        raise PhotoRefused(NOT_A_PHOTO)
    max_pixels = _limit("PHOTO_MAX_PIXELS", DEFAULT_MAX_PIXELS)
    if Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < max_pixels:
        Image.MAX_IMAGE_PIXELS = max_pixels  # only ever raised, to what this app allows
    image = Image.open(io.BytesIO(data), formats=[_FORMATS[kind][0]])
    if image.format not in _FORMATS[kind]:
        raise PhotoRefused(NOT_A_PHOTO)
    if image.width * image.height > max_pixels:
        raise PhotoRefused(_too_many_pixels())
    return image


def _sniff(data: bytes) -> str | None:
    """The format the magic bytes announce, if one we accept."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _gps_of(image: Image.Image) -> tuple[float, float] | None:
    """The position in the image's EXIF GPS block, in decimal degrees; None when missing,
    damaged or impossible."""
    try:
        gps = image.getexif().get_ifd(_GPS_IFD)
        lat = _decimal_degrees(gps[2], gps.get(1), "N", "S")
        lon = _decimal_degrees(gps[4], gps.get(3), "E", "W")
    except _EXIF_ERRORS:
        return None
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    if lat == 0 and lon == 0:  # what cameras write when they had no fix
        return None
    return round(lat, 7), round(lon, 7)


def _decimal_degrees(value, ref, positive: str, negative: str) -> float | None:
    """Degrees, minutes and seconds (rationals) and a hemisphere letter, as signed degrees."""
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    ref = (ref or "").strip("\x00 ").upper()
    if ref not in (positive, negative):
        return None
    degrees, minutes, seconds = (float(part) for part in value)
    result = degrees + minutes / 60 + seconds / 3600
    if not math.isfinite(result):
        return None
    return -result if ref == negative else result


def _clean(image: Image.Image) -> Image.Image:
    """The decoded picture upright, in sRGB (RGB, or RGBA when it has transparency), at most
    MAX_SIDE on its long side, as a new image holding pixels and nothing else."""
    icc_profile = image.info.get("icc_profile")
    if image.mode not in _RESIZABLE_MODES:
        image = _to_rgb(image)
    # A square box: shrinking before turning the picture upright gives the same size, cheaper.
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    image = _upright(image)
    image = _to_srgb(image, icc_profile)
    return Image.frombytes(image.mode, image.size, image.tobytes())


def _to_rgb(image: Image.Image) -> Image.Image:
    """Palette, bilevel and 16-bit images as RGB or RGBA."""
    if image.mode.startswith("I"):  # 16- or 32-bit grey: scale, do not clip, to 8 bits
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    return image.convert("RGBA" if _has_transparency(image) else "RGB")


def _has_transparency(image: Image.Image) -> bool:
    """Whether some pixel is not fully opaque (an unused alpha channel does not count)."""
    if image.mode == "RGBA":
        alpha = image.getchannel("A")
    elif image.mode in ("LA", "PA") or "transparency" in image.info:
        alpha = image.convert("RGBA").getchannel("A")
    else:
        return False
    return alpha.getextrema()[0] < 255


def _upright(image: Image.Image) -> Image.Image:
    """The image turned as its EXIF orientation says; as it is when that EXIF is damaged."""
    try:
        return ImageOps.exif_transpose(image)
    except _EXIF_ERRORS:
        return image


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """RGB or RGBA in sRGB: the colours converted from the photo's own profile (wide-gamut
    phone photos) when it has a usable one, as they are otherwise."""
    mode = "RGBA" if _has_transparency(image) else "RGB"
    if icc_profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode=mode)
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            converted = None
        if converted is not None:
            return converted
    return image.convert(mode)


def _encode(image: Image.Image) -> tuple[bytes, str]:
    """JPEG bytes, or WebP for a picture with transparency, and their content type."""
    buffer = io.BytesIO()
    if image.mode == "RGBA":
        image.save(buffer, "WEBP", quality=QUALITY, method=4)
        return buffer.getvalue(), "image/webp"
    image.save(buffer, "JPEG", quality=QUALITY, optimize=True, progressive=True)
    return buffer.getvalue(), "image/jpeg"


def store_photo(report: Report, photo: ProcessedPhoto, event: ReportEvent | None = None) -> Photo:
    """Write the photo and its thumbnail to the photo store with random names, add its row to
    the report (and to the event that added it, if any) and flush.

    Each file is written whole (storage.py). Raises StorageFull (the disk) or
    StorageUnavailable (the object store) when a file cannot be written, after removing
    whatever was written. The caller commits; if the transaction is rolled back instead (a
    failed commit too), the files are removed.
    """
    extension = EXTENSIONS[photo.content_type]
    storage_key, thumbnail_key = new_key(extension), new_key(extension)
    _write_files({thumbnail_key: photo.thumbnail, storage_key: photo.image}, photo.content_type)
    # The keys, not the row: a row rolled back is no longer the session's to read.
    on_rollback(lambda: _remove_files(storage_key, thumbnail_key))
    if event is not None and event.id is None:
        db.session.flush()
    row = Photo(
        report=report,
        event_id=event.id if event is not None else None,
        storage_key=storage_key,
        thumbnail_key=thumbnail_key,
        content_type=photo.content_type,
        width=photo.width,
        height=photo.height,
        byte_size=len(photo.image),
        sha256=photo.sha256,
    )
    db.session.add(row)
    try:
        db.session.flush()
    except SQLAlchemyError:
        discard_files(row)
        raise
    return row


def store_photos(report: Report, photos: list, event: ReportEvent | None = None) -> None:
    """Store the photos (see store_photo); if one cannot be written, remove those already
    written and raise (the rollback that follows finds them gone, which is fine)."""
    stored = []
    try:
        for photo in photos:
            stored.append(store_photo(report, photo, event))
    except TellCityError:
        for photo in stored:
            discard_files(photo)
        raise


def discard_files(photo: Photo) -> None:
    """Remove a photo's files (after the transaction that added its row failed, or once the
    row is deleted). Files already gone are fine; a file that cannot be removed is logged."""
    _remove_files(photo.storage_key, photo.thumbnail_key)


def _remove_files(*keys: str) -> None:
    store().delete(file_path(key) for key in keys)


@event.listens_for(Photo, "after_delete")
def _deleted(_mapper, _connection, photo: Photo) -> None:
    """A photo's row deleted through the session (alone, or with its report): its files go
    once that is committed. (A bulk SQL DELETE bypasses this: delete rows one by one.)"""
    keys = photo.storage_key, photo.thumbnail_key
    after_commit(lambda: _remove_files(*keys))


def file_path(key: str) -> str:
    """The name of the file of a storage or thumbnail key in the photo store: in a subfolder
    named after the key's first two characters, so no folder grows too large."""
    if not KEY_PATTERN.fullmatch(key):
        raise ValueError(f"not a storage key: {key!r}")
    return f"{key[:2]}/{key}"


def new_key(extension: str) -> str:
    """A new storage key (KEY_PATTERN): random, never derived from the uploader's file name."""
    return f"{secrets.token_urlsafe(24)}.{extension}"


def _write_files(files: dict[str, bytes], content_type: str) -> None:
    """Write each file whole, or none of them."""
    written = []
    try:
        for key, content in files.items():
            store().write(file_path(key), content, content_type)
            written.append(key)
    except (StorageFull, StorageUnavailable):
        _remove_files(*written)
        raise
