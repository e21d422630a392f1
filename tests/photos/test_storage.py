"""Storing a report's photo: whole files with random names and their row, or nothing at all."""

import os
import resource
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from tellcity.extensions import db
from tellcity.photos.services import (
    KEY_PATTERN,
    StorageFull,
    discard_files,
    process_upload,
    store_photo,
)
from tellcity.reports.models import Photo, ReportEvent
from tellcity.reports.states import EventType
from tests.photos.images import camera_photo, encode
from tests.reports.helpers import submit


def files_under(folder) -> list[Path]:
    return sorted(path for path in Path(folder).rglob("*") if path.is_file())


def photo_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Photo))


def test_a_stored_photo_is_two_files_with_random_names_and_a_row(app, demo_city):
    report = submit(demo_city)
    processed = process_upload(camera_photo(size=(1200, 900)))

    photo = store_photo(report, processed)
    db.session.commit()

    uploads = Path(app.config["UPLOAD_FOLDER"])
    for key in (photo.storage_key, photo.thumbnail_key):
        assert KEY_PATTERN.fullmatch(key) and key.endswith(".jpg")
    assert photo.storage_key != photo.thumbnail_key
    image_file = uploads / photo.storage_key[:2] / photo.storage_key
    thumbnail_file = uploads / photo.thumbnail_key[:2] / photo.thumbnail_key
    assert image_file.read_bytes() == processed.image
    assert thumbnail_file.read_bytes() == processed.thumbnail
    assert files_under(uploads) == sorted([image_file, thumbnail_file])  # no temporary left
    assert report.photos == [photo]
    assert (photo.width, photo.height) == (1200, 900)
    assert photo.content_type == "image/jpeg"
    assert photo.byte_size == len(processed.image)
    assert photo.sha256 == processed.sha256
    assert photo.event_id is None and not photo.is_hidden


def test_a_photo_added_with_an_event_is_linked_to_it(app, demo_city):
    report = submit(demo_city)
    event = ReportEvent(report=report, type=EventType.PHOTO_ADDED, actor_label="resident")
    db.session.add(event)

    photo = store_photo(report, process_upload(camera_photo()), event=event)
    db.session.commit()

    assert photo.event_id == event.id is not None


def test_two_uploads_of_the_same_photo_get_different_names(app, demo_city):
    report = submit(demo_city)
    processed = process_upload(camera_photo())
    first, second = store_photo(report, processed), store_photo(report, processed)
    assert {first.storage_key, first.thumbnail_key}.isdisjoint(
        {second.storage_key, second.thumbnail_key}
    )


def test_when_the_upload_folder_cannot_be_written_nothing_is_kept(app, demo_city, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a regular file where the upload folder's parent should be")
    app.config["UPLOAD_FOLDER"] = str(blocker / "uploads")
    report = submit(demo_city)

    with pytest.raises(StorageFull) as caught:
        store_photo(report, process_upload(camera_photo()))

    error = caught.value
    assert (error.status, error.code) == (507, "storage_full")
    assert error.message == (
        "La photo n'a pas pu être enregistrée : le serveur manque de place. Réessayez plus tard."
    )
    db.session.flush()
    assert photo_count() == 0
    assert blocker.is_file() and files_under(tmp_path / "instance" / "uploads") == []


@pytest.fixture
def disk_filling_up():
    """Writes past `limit` bytes fail with EFBIG (Python ignores SIGXFSZ), as they would with
    ENOSPC on a full disk, part-way through a file."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)

    def fill_after(limit: int) -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))

    yield fill_after
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def test_a_disk_filling_up_half_way_through_leaves_no_half_saved_photo(
    app, demo_city, disk_filling_up
):
    noise = Image.frombytes("RGB", (1000, 800), os.urandom(1000 * 800 * 3))
    processed = process_upload(encode(noise, "PNG"))
    limit = 150_000
    assert len(processed.thumbnail) < limit < len(processed.image)
    report = submit(demo_city)
    db.session.flush()

    disk_filling_up(limit)
    try:
        with pytest.raises(StorageFull):
            store_photo(report, processed)
    finally:
        disk_filling_up(resource.RLIM_INFINITY)

    assert files_under(app.config["UPLOAD_FOLDER"]) == []
    db.session.flush()
    assert photo_count() == 0


def test_files_of_a_photo_whose_transaction_failed_can_be_discarded(app, demo_city):
    report = submit(demo_city)
    photo = store_photo(report, process_upload(camera_photo()))
    assert len(files_under(app.config["UPLOAD_FOLDER"])) == 2

    db.session.rollback()
    discard_files(photo)
    discard_files(photo)  # twice is harmless

    assert files_under(app.config["UPLOAD_FOLDER"]) == []
    assert photo_count() == 0
