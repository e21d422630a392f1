"""Real image files made with Pillow, the way phones and cameras write them."""

import io
import struct
import zlib

from PIL import Image

ARTIST = "Jeanne Dupont"
SERIAL = "SN-0042-CAMERA-SERIAL"
#: 48°49'28.2"N 2°16'24.6"E: the town hall of Issy-les-Moulineaux.
TOWN_HALL_DMS = ((48.0, 49.0, 28.2), (2.0, 16.0, 24.6))


def encode(image: Image.Image, format: str = "JPEG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format, **options)
    return buffer.getvalue()


def photo(size=(400, 300), color=(200, 60, 30), format="JPEG", mode="RGB", **options) -> bytes:
    return encode(Image.new(mode, size, color), format, **options)


def camera_exif(orientation: int = 1, gps=TOWN_HALL_DMS, refs=("N", "E")) -> Image.Exif:
    """EXIF as a phone writes it: who took it, the camera's serial number, where."""
    exif = Image.Exif()
    exif[0x013B] = ARTIST  # Artist
    exif[0x0110] = "PhonePhone 12"  # Model
    exif[0x0112] = orientation  # Orientation
    exif[0x8769] = {0xA431: SERIAL}  # Exif IFD: BodySerialNumber
    if gps is not None:
        (lat, lon), (lat_ref, lon_ref) = gps, refs
        exif[0x8825] = {1: lat_ref, 2: lat, 3: lon_ref, 4: lon}  # GPS IFD
    return exif


def camera_photo(size=(400, 300), **exif_options) -> bytes:
    """A JPEG with camera EXIF, half red and half blue so its orientation can be seen."""
    image = Image.new("RGB", size, (220, 20, 20))
    image.paste((20, 20, 220), (size[0] // 2, 0, size[0], size[1]))
    return encode(image, "JPEG", exif=camera_exif(**exif_options), quality=90)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG file whose header announces width x height black-and-white pixels, with a few
    compressed rows of data: what a decompression bomb looks like before it is decoded."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = zlib.compress(b"\0" * (1 + (width + 7) // 8) * 16, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", rows)
        + _png_chunk(b"IEND", b"")
    )
