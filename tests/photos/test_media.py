"""Residents' photos served back: the stored file of a visible photo, and nothing else."""

from pathlib import Path

import pytest

from tellcity.extensions import db
from tellcity.photos.services import process_upload, store_photo
from tests.photos.images import camera_photo, encode
from tests.reports.helpers import submit

AN_HOUR = 3600


@pytest.fixture
def stored(app, demo_city):
    """A committed report with one photo; returns (report, photo, processed)."""
    report = submit(demo_city)
    processed = process_upload(camera_photo())
    photo = store_photo(report, processed)
    db.session.commit()
    return report, photo, processed


def test_a_photo_and_its_thumbnail_are_served_as_stored(client, stored):
    _, photo, processed = stored
    for url, content in [
        (f"/media/{photo.storage_key}", processed.image),
        (f"/media/thumbs/{photo.thumbnail_key}", processed.thumbnail),
    ]:
        response = client.get(url)
        assert response.status_code == 200
        assert response.get_data() == content
        assert response.mimetype == "image/jpeg"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        # an hour: a photo hidden by a moderator soon leaves caches too
        assert response.cache_control.max_age == AN_HOUR
        assert response.cache_control.public and not response.cache_control.immutable
        response.close()


def test_a_transparent_photo_is_served_as_webp(client, app, demo_city):
    from PIL import Image

    report = submit(demo_city)
    photo = store_photo(report, process_upload(encode(Image.new("RGBA", (40, 40)), "PNG")))
    db.session.commit()
    response = client.get(f"/media/{photo.storage_key}")
    assert response.status_code == 200 and response.mimetype == "image/webp"
    response.close()


def test_a_key_is_served_only_as_what_it_is(client, stored):
    _, photo, _ = stored
    assert client.get(f"/media/{photo.thumbnail_key}").status_code == 404
    assert client.get(f"/media/thumbs/{photo.storage_key}").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/media/..%2F..%2Fetc%2Fpasswd",
        "/media/../instance/secret_key",
        "/media/..%2Fsecret_key",
        "/media/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/media/secret_key",
        "/media/thumbs/..%2F..%2Fsecret_key",
        "/media/thumbs/../../secret_key",
        "/media/..",
        "/media/%00.jpg",
    ],
)
def test_paths_that_are_not_storage_keys_are_not_found(client, app, url):
    secret = Path(app.instance_path) / "secret_key"
    secret.write_text("do-not-serve-me\n")
    response = client.get(url)
    # A NUL is refused before any route runs (tellcity.core.security).
    assert response.status_code == (400 if "%00" in url else 404)
    assert b"do-not-serve-me" not in response.get_data()


def test_a_file_in_the_upload_folder_without_its_photo_row_is_not_served(client, app):
    key = "A" * 32 + ".jpg"
    folder = Path(app.config["UPLOAD_FOLDER"]) / key[:2]
    folder.mkdir(parents=True)
    (folder / key).write_bytes(b"\xff\xd8\xff stray file")
    assert client.get(f"/media/{key}").status_code == 404


def test_the_photos_of_a_hidden_report_are_not_served(client, stored):
    report, photo, _ = stored
    report.is_hidden = True
    db.session.commit()
    assert client.get(f"/media/{photo.storage_key}").status_code == 404
    assert client.get(f"/media/thumbs/{photo.thumbnail_key}").status_code == 404


def test_a_hidden_photo_is_not_served(client, stored):
    _, photo, _ = stored
    photo.is_hidden = True
    db.session.commit()
    assert client.get(f"/media/{photo.storage_key}").status_code == 404
    assert client.get(f"/media/thumbs/{photo.thumbnail_key}").status_code == 404


def test_a_photo_whose_file_is_gone_is_not_found(client, app, stored):
    _, photo, _ = stored
    (Path(app.config["UPLOAD_FOLDER"]) / photo.storage_key[:2] / photo.storage_key).unlink()
    assert client.get(f"/media/{photo.storage_key}").status_code == 404
