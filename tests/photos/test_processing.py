"""What happens to a resident's photo before it is stored: only real JPEG, PNG and WebP photos
get through, upright, resized, and without a trace of where, when or with what they were taken."""

import hashlib
import io
import resource
import time

import pytest
from PIL import Image, ImageCms

from tellcity.core.errors import Invalid
from tellcity.photos.services import PhotoRefused, process_upload, read_gps
from tests.photos.images import ARTIST, SERIAL, camera_photo, encode, photo, png_declaring

pytestmark = pytest.mark.usefixtures("image_app")

NOT_A_PHOTO = "Ce fichier n'est pas une photo JPEG, PNG ou WebP."
DAMAGED = "Cette photo est abîmée ou incomplète : essayez de l'envoyer à nouveau."


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def refusal(data: bytes) -> PhotoRefused:
    with pytest.raises(PhotoRefused) as caught:
        process_upload(data)
    return caught.value


def test_the_position_a_phone_wrote_is_offered_and_every_trace_of_the_camera_is_gone():
    upload = camera_photo()
    assert ARTIST.encode() in upload and SERIAL.encode() in upload

    processed = process_upload(upload)

    assert processed.gps == pytest.approx((48.8245, 2.2735), abs=1e-6)
    assert read_gps(upload) == processed.gps
    for stored in (processed.image, processed.thumbnail):
        assert ARTIST.encode() not in stored and SERIAL.encode() not in stored
        assert b"Exif" not in stored and b"http://ns.adobe.com/xap" not in stored
        image = opened(stored)
        assert len(image.getexif()) == 0
        assert not {"exif", "icc_profile", "xmp", "comment"} & set(image.info)


def test_southern_and_western_positions_are_negative():
    upload = camera_photo(gps=((33.0, 52.0, 4.0), (151.0, 12.0, 36.0)), refs=("S", "W"))
    lat, lon = read_gps(upload)
    assert lat == pytest.approx(-(33 + 52 / 60 + 4 / 3600))
    assert lon == pytest.approx(-(151 + 12 / 60 + 36 / 3600))


def test_a_photo_without_a_position_offers_none():
    assert process_upload(camera_photo(gps=None)).gps is None
    assert read_gps(photo()) is None
    assert read_gps(b"<html>not a photo</html>") is None
    assert read_gps(b"") is None


def test_a_photo_taken_with_the_phone_on_its_side_is_stored_upright():
    # Orientation 6: the camera's left (red half) is the top of the picture as seen.
    processed = process_upload(camera_photo(size=(100, 50), orientation=6))

    assert (processed.width, processed.height) == (50, 100)
    image = opened(processed.image)
    assert image.size == (50, 100)
    red, _, blue = image.getpixel((25, 10))
    assert red > 150 and blue < 100
    red, _, blue = image.getpixel((25, 90))
    assert blue > 150 and red < 100


def test_a_large_photo_is_resized_with_a_small_thumbnail():
    upload = camera_photo(size=(4000, 3000))

    processed = process_upload(upload)

    assert (processed.width, processed.height) == (2048, 1536)
    assert opened(processed.image).size == (2048, 1536)
    assert opened(processed.thumbnail).size == (320, 240)
    assert processed.content_type == "image/jpeg"
    assert opened(processed.image).format == "JPEG"
    assert processed.sha256 == hashlib.sha256(processed.image).hexdigest()
    assert len(processed.image) < len(upload)


def test_a_small_photo_keeps_its_size():
    processed = process_upload(photo(size=(300, 200)))
    assert (processed.width, processed.height) == (300, 200)
    assert opened(processed.thumbnail).size == (300, 200)


@pytest.mark.parametrize("format", ["PNG", "WEBP"])
def test_opaque_png_and_webp_photos_are_stored_as_jpeg(format):
    processed = process_upload(photo(format=format, mode="RGBA", color=(10, 200, 10, 255)))
    assert processed.content_type == "image/jpeg"
    assert opened(processed.image).format == "JPEG"


def test_a_picture_with_transparency_keeps_it_as_webp():
    image = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    image.paste((250, 200, 0, 255), (0, 0, 100, 100))

    processed = process_upload(encode(image, "PNG"))

    assert processed.content_type == "image/webp"
    stored = opened(processed.image)
    assert stored.format == "WEBP" and stored.mode == "RGBA"
    assert stored.getpixel((150, 50))[3] == 0
    assert stored.getpixel((50, 50))[3] == 255
    assert opened(processed.thumbnail).format == "WEBP"


@pytest.mark.parametrize(
    "image",
    [
        Image.new("P", (120, 80), 3),
        Image.new("L", (120, 80), 128),
        Image.new("1", (120, 80), 1),
        Image.new("I;16", (120, 80), 40000),
    ],
    ids=lambda image: image.mode,
)
def test_palette_grey_and_16_bit_pngs_become_rgb_photos(image):
    processed = process_upload(encode(image, "PNG"))
    stored = opened(processed.image)
    assert stored.mode == "RGB" and stored.size == (120, 80)


def test_a_16_bit_grey_png_keeps_its_shades():
    stored = opened(process_upload(encode(Image.new("I;16", (50, 50), 32768), "PNG")).image)
    assert 120 <= stored.getpixel((25, 25))[0] <= 136  # half grey, not clipped to white


def test_a_cmyk_jpeg_is_stored_as_rgb():
    stored = opened(process_upload(photo(mode="CMYK", color=(0, 255, 255, 0))).image)
    assert stored.mode == "RGB"
    red, green, blue = stored.getpixel((10, 10))
    assert red > 200 and green < 60 and blue < 60


def test_a_colour_profile_is_applied_then_dropped():
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    processed = process_upload(photo(icc_profile=profile))
    assert "icc_profile" not in opened(processed.image).info


def test_only_the_first_frame_of_an_animated_picture_is_kept():
    frames = [Image.new("RGB", (80, 60), color) for color in ("red", "blue", "green")]
    upload = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True)
    assert Image.open(io.BytesIO(upload)).n_frames == 3

    stored = opened(process_upload(upload).image)

    red, green, blue = stored.getpixel((40, 30))
    assert red > 200 and green < 60 and blue < 60


def test_a_jpeg_holding_several_pictures_keeps_the_first():
    # MPO: what some cameras and phones write, a JPEG followed by a depth map or a preview.
    pictures = [Image.new("RGB", (90, 60), color) for color in ("red", "blue")]
    upload = encode(pictures[0], "MPO", save_all=True, append_images=pictures[1:])
    assert Image.open(io.BytesIO(upload)).format == "MPO"

    processed = process_upload(upload)

    assert processed.content_type == "image/jpeg"
    red, green, blue = opened(processed.image).getpixel((45, 30))
    assert red > 200 and green < 60 and blue < 60


def test_the_bytes_of_a_photo_stay_out_of_logs_and_tracebacks():
    processed = process_upload(photo())
    assert "image=" not in repr(processed) and "image/jpeg" in repr(processed)


def test_a_truncated_jpeg_is_refused():
    upload = camera_photo(size=(800, 600))
    error = refusal(upload[: len(upload) * 2 // 3])
    assert error.message == DAMAGED


def test_an_empty_file_is_refused():
    assert refusal(b"").message == "Ce fichier est vide : choisissez une photo."


def test_a_refusal_is_an_invalid_photos_field_for_the_forms_and_apis():
    error = refusal(b"")
    assert isinstance(error, Invalid)
    assert error.status == 422
    assert error.to_dict() == {
        "code": "invalid_photo",
        "message": "Ce fichier est vide : choisissez une photo.",
        "field": "photos",
        "fields": {"photos": ["Ce fichier est vide : choisissez une photo."]},
    }


def test_a_file_heavier_than_the_limit_is_refused(image_app):
    image_app.config["PHOTO_MAX_BYTES"] = 2 * 1024 * 1024
    upload = photo() + b"\0" * (2 * 1024 * 1024)
    assert refusal(upload).message == "Cette photo est trop lourde : 2 Mo au plus."


def test_a_picture_with_more_pixels_than_the_limit_is_refused_before_decoding(image_app):
    image_app.config["PHOTO_MAX_PIXELS"] = 2_500_000
    assert process_upload(photo(size=(2000, 1250))).width == 2000
    error = refusal(photo(size=(2000, 1251)))
    assert error.message == "Cette photo est trop grande : 2,5 millions de pixels au plus."


@pytest.mark.parametrize("size", [(50_000, 50_000), (8_000, 6_000)], ids=["huge", "over-40MP"])
def test_a_decompression_bomb_is_refused_without_using_much_memory(size):
    upload = png_declaring(*size)
    assert len(upload) < 20_000
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    started = time.monotonic()

    error = refusal(upload)

    assert error.message == "Cette photo est trop grande : 40 millions de pixels au plus."
    assert time.monotonic() - started < 1
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < 50_000


def test_an_html_page_named_like_a_photo_is_refused():
    page = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
    assert refusal(page).message == NOT_A_PHOTO


def test_an_svg_is_refused():
    svg = (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b'<script>alert(1)</script><rect width="10" height="10"/></svg>'
    )
    assert refusal(svg).message == NOT_A_PHOTO


@pytest.mark.parametrize("format", ["GIF", "BMP", "TIFF", "ICO"])
def test_other_image_formats_are_refused(format):
    assert refusal(photo(format=format, size=(64, 64))).message == NOT_A_PHOTO


@pytest.mark.parametrize(
    "upload",
    [
        b"\xff\xd8\xff" + photo(format="PNG"),  # says JPEG, is a PNG
        b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>",  # says PNG, is HTML
        b"RIFF\x10\x00\x00\x00WEBP<script>alert(1)</script>",  # says WebP, is script
        b"<html>" + photo(),  # HTML first, a JPEG after
    ],
    ids=["jpeg-magic-png", "png-magic-html", "webp-magic-script", "html-then-jpeg"],
)
def test_files_whose_bytes_and_content_disagree_are_refused(upload):
    assert refusal(upload).message == NOT_A_PHOTO


def test_a_jpeg_carrying_a_script_is_re_encoded_without_it():
    payload = b"<script>alert(document.cookie)</script>"
    polyglot = photo(comment=payload) + b"<html><body>" + payload + b"</body></html>"
    assert polyglot.count(payload) == 2

    processed = process_upload(polyglot)

    for stored in (processed.image, processed.thumbnail):
        assert b"<script" not in stored and b"<html" not in stored
        assert opened(stored).format == "JPEG"
