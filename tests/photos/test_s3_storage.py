"""Photos kept in an S3-compatible object store (PHOTO_STORAGE=s3://bucket/prefix), as a city
running several machines has them: moto's S3 server on loopback stands for the store, reached
through boto3 with the standard AWS_* variables. Residents file and see photos exactly as with
the upload folder; moderation takes effect at once; a store that is down refuses a photo
cleanly and keeps the resident's text."""

import io
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from tellcity.extensions import db
from tellcity.photos import pending
from tellcity.photos.services import file_path, process_upload
from tellcity.reports.models import Photo, Report
from tests.notify.helpers import free_port
from tests.photos.images import ARTIST, SERIAL, camera_photo, photo
from tests.photos.s3_server import UNSET, MotoServer, endpoint_env
from tests.reports.helpers import TOWN_HALL, submit
from tests.web.helpers import form_tokens, post_form, text

AN_HOUR = 3600
STORE_DOWN = "Photos cannot be saved right now"
STORE_DOWN_FR = "Les photos ne peuvent pas être enregistrées pour le moment"


def reports() -> list[Report]:
    return db.session.scalars(sa.select(Report).order_by(Report.id)).all()


def files_under(folder) -> list[Path]:
    return sorted(path for path in Path(folder).rglob("*") if path.is_file())


def names_of(photo: Photo) -> list[str]:
    return sorted([file_path(photo.storage_key), file_path(photo.thumbnail_key)])


def upload(content: bytes, name="photo.jpg"):
    return (io.BytesIO(content), name)


def form(**fields) -> dict:
    return {"category": "pothole", "lat": TOWN_HALL[0], "lon": TOWN_HALL[1], **fields}


def assert_served(client, url: str, content: bytes, mimetype="image/jpeg") -> None:
    """The app serves these exact bytes at `url`, as it does photos from the disk, and answers
    a repeated request from the browser's cache with a 304."""
    response = client.get(url)
    assert response.status_code == 200
    assert response.get_data() == content
    assert response.mimetype == mimetype and response.content_length == len(content)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.cache_control.max_age == AN_HOUR and response.cache_control.public
    etag = response.headers["ETag"]
    response.close()
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    again.close()


def test_a_photo_from_the_web_form_is_kept_in_the_bucket_and_served_by_the_app(
    app, client, demo_city, s3_store
):
    response = post_form(client, "/report", form(photos=[upload(camera_photo())]))

    assert response.status_code == 302
    [report] = reports()
    [stored] = report.photos
    assert s3_store.names() == names_of(stored)  # the form's pending copy is gone
    assert files_under(app.config["UPLOAD_FOLDER"]) == []
    image = s3_store.read(file_path(stored.storage_key))
    thumbnail = s3_store.read(file_path(stored.thumbnail_key))
    for content in (image, thumbnail):
        assert ARTIST.encode() not in content and SERIAL.encode() not in content
        assert b"Exif" not in content and content.startswith(b"\xff\xd8\xff")
    assert s3_store.head(file_path(stored.storage_key))["ContentType"] == "image/jpeg"
    assert len(image) == stored.byte_size
    page = text(client.get(f"/reports/{report.reference}"))
    assert f"/media/thumbs/{stored.thumbnail_key}" in page
    assert_served(client, f"/media/{stored.storage_key}", image)
    assert_served(client, f"/media/thumbs/{stored.thumbnail_key}", thumbnail)


def test_a_photo_sent_to_the_api_is_kept_in_the_bucket_and_served_by_the_app(
    client, demo_city, s3_store
):
    transparent = photo(size=(60, 40), color=(0, 90, 200, 128), format="PNG", mode="RGBA")
    data = {**form(description="Trou"), "photos": upload(transparent, "p.png")}

    response = client.post("/api/v1/reports", data=data, content_type="multipart/form-data")

    assert response.status_code == 201
    public = client.get(f"/api/v1/reports/{response.json['reference']}").json
    [listed] = public["photos"]
    [stored] = reports()[0].photos
    assert s3_store.names() == names_of(stored)
    thumbnail_url = listed["thumbnail_url"].removeprefix("http://localhost")
    thumbnail = s3_store.read(file_path(stored.thumbnail_key))
    assert_served(client, thumbnail_url, thumbnail, mimetype="image/webp")
    image = s3_store.read(file_path(stored.storage_key))
    assert_served(client, f"/media/{stored.storage_key}", image, mimetype="image/webp")


def test_a_form_that_comes_back_keeps_its_photo_in_the_bucket(client, demo_city, s3_store):
    existing = submit(demo_city, "pothole", at=TOWN_HALL)
    db.session.commit()

    page = text(post_form(client, "/report", form(photos=[upload(camera_photo())])))

    assert existing.reference in page and "1 photo reçue." in page
    token = re.search(r'name="pending_photos" type="hidden" value="([^"]+)"', page).group(1)
    assert s3_store.names("pending/") == [
        f"pending/{token}.{end}" for end in ("image", "json", "thumb")
    ]
    again = client.post(
        "/report",
        content_type="multipart/form-data",
        data={
            **form_tokens(client, "/report"),
            **form(),
            "submission_key": re.search(r'name="submission_key" value="([^"]+)"', page).group(1),
            "pending_photos": token,
            "not_a_duplicate": "y",
            "questions_for": "pothole",
        },
    )

    assert again.status_code == 302
    mine = reports()[-1]
    assert mine.id != existing.id and len(mine.photos) == 1
    assert s3_store.names() == names_of(mine.photos[0])


def test_hiding_a_report_stops_its_photos_at_once_and_showing_it_brings_them_back(
    client, login_as, demo_city, s3_store
):
    report = submit(demo_city, photos=[process_upload(camera_photo())])
    db.session.commit()
    [stored] = report.photos
    urls = [f"/media/{stored.storage_key}", f"/media/thumbs/{stored.thumbnail_key}"]
    assert [client.get(url).status_code for url in urls] == [200, 200]

    login_as("agent.voirie")
    visibility = f"/staff/tickets/{report.reference}/visibility"
    token = form_tokens(client, f"/staff/tickets/{report.reference}")["csrf_token"]
    hidden = client.post(visibility, data={"csrf_token": token, "hidden": "1", "reason": "abus"})
    assert hidden.status_code == 302

    assert [client.get(url).status_code for url in urls] == [404, 404]
    assert s3_store.names() == names_of(stored)  # kept: a moderator may show it again
    client.post(visibility, data={"csrf_token": token, "hidden": "0", "reason": "erreur"})
    assert [client.get(url).status_code for url in urls] == [200, 200]


def test_erasing_a_report_removes_its_photos_from_the_bucket_once_committed(
    client, demo_city, s3_store
):
    report = submit(demo_city, photos=[process_upload(camera_photo())])
    kept = submit(demo_city, photos=[process_upload(camera_photo())])
    db.session.commit()
    [stored] = report.photos
    key = stored.storage_key

    db.session.delete(report)
    db.session.flush()
    assert len(s3_store.names()) == 4  # not before the commit
    db.session.rollback()
    assert len(s3_store.names()) == 4  # nor when it is rolled back

    db.session.delete(db.session.get(Report, report.id))
    db.session.commit()

    assert s3_store.names() == names_of(kept.photos[0])
    assert client.get(f"/media/{key}").status_code == 404


def test_the_sweep_removes_abandoned_form_photos_after_a_day_page_by_page(
    client, demo_city, s3_store
):
    report = submit(demo_city, photos=[process_upload(camera_photo())])
    db.session.commit()
    old = pending.stash(process_upload(camera_photo()))
    time.sleep(1.1)  # S3 dates objects to the second
    recent = pending.stash(process_upload(camera_photo()))
    # More abandoned files than one page of a listing (1,000) and one batch of deletes.
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: s3_store.put(f"pending/x{n:04}.image", b"x"), range(1001)))
    recent_at = s3_store.head(f"pending/{recent}.image")["LastModified"].timestamp()

    # A day after the recent one was kept, less half a second: only the old one has aged.
    assert pending.sweep(now=recent_at + pending.MAX_AGE_SECONDS - 0.5) == 3
    assert not any(name.startswith(f"pending/{old}") for name in s3_store.names())
    assert [p.token for p in pending.load([old, recent])] == [recent]
    assert len(s3_store.names("pending/")) == 1004

    assert pending.sweep(now=time.time() + pending.MAX_AGE_SECONDS + 5) == 1004
    assert s3_store.names() == names_of(report.photos[0])  # reports' photos are not swept
    assert client.get(f"/media/{report.photos[0].storage_key}").status_code == 200


def test_the_store_is_chosen_by_environment_variables_alone(tmp_path, moto_server, monkeypatch):
    from tellcity import create_app

    bucket = moto_server.new_bucket()
    for name in UNSET:
        monkeypatch.delenv(name, raising=False)
    for name, value in moto_server.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TELLCITY_PHOTO_STORAGE", f"s3://{bucket}/city/photos")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "tests"})

    with app.app_context():
        token = pending.stash(process_upload(camera_photo()))
        [kept] = pending.load([token])

    listed = moto_server.client().list_objects_v2(Bucket=bucket)["Contents"]
    assert sorted(obj["Key"] for obj in listed) == [
        f"city/photos/pending/{token}.{end}" for end in ("image", "json", "thumb")
    ]
    assert kept.photo.content_type == "image/jpeg" and kept.photo.width == 400
    assert files_under(tmp_path / "uploads") == []


@pytest.fixture
def s3_down(app, monkeypatch):
    """The app's photos are in an object store nothing answers for (a closed port)."""
    for name in UNSET:
        monkeypatch.delenv(name, raising=False)
    for name, value in endpoint_env(f"http://127.0.0.1:{free_port()}").items():
        monkeypatch.setenv(name, value)
    app.config.update(PHOTO_STORAGE="s3://tellcity-photos/photos", PHOTO_STORAGE_TIMEOUT=2)


def test_with_the_store_down_the_form_comes_back_with_the_text_and_nothing_is_written(
    app, client, demo_city, s3_down
):
    description = "Un trou profond devant l'école, à reboucher vite"
    fields = form(description=description, photos=[upload(camera_photo())])

    response = post_form(client, "/report", fields)

    assert response.status_code == 503
    page = text(response)
    assert STORE_DOWN_FR in page
    assert description.replace("'", "&#39;") in page  # the resident's text is still there
    assert reports() == [] and files_under(app.config["UPLOAD_FOLDER"]) == []
    fields["photos"] = [upload(camera_photo())]
    english = post_form(client, "/report", fields, headers={"Accept-Language": "en"})
    assert english.status_code == 503 and STORE_DOWN in text(english)
    # Without the photo, the same report is filed.
    without = post_form(client, "/report", form(description=description))
    assert without.status_code == 302 and len(reports()) == 1


def test_with_the_store_down_the_api_answers_503_and_files_nothing(client, demo_city, s3_down):
    data = {**form(description="Trou"), "photos": upload(camera_photo())}

    response = client.post("/api/v1/reports", data=data, content_type="multipart/form-data")

    assert response.status_code == 503
    error = response.json["error"]
    assert error["code"] == "photo_storage_unavailable" and STORE_DOWN_FR in error["message"]
    assert "photos" in error["fields"]
    assert reports() == []
    assert client.post("/api/v1/reports", json=form(description="Trou")).status_code == 201


def test_with_the_store_down_a_photo_added_on_the_tracking_page_is_refused_on_the_page(
    client, demo_city, s3_down
):
    from tellcity.reports.links import tracking_url
    from tellcity.reports.models import ReportEvent

    report = submit(demo_city)
    db.session.commit()
    events = len(report.events)
    url = tracking_url(report)

    response = post_form(client, f"{url}/photo", {"photo": [upload(camera_photo())]}, page=url)

    assert response.status_code == 503 and STORE_DOWN_FR in text(response)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 0
    count = sa.select(sa.func.count()).where(ReportEvent.report_id == report.id)
    assert db.session.scalar(count) == events


def test_with_the_store_down_open311_answers_503_in_its_shape_and_files_nothing(
    client, demo_city, s3_down
):
    from tests.open311.helpers import POTHOLE, json_of, new_key, post

    data = {**POTHOLE, "media": (io.BytesIO(camera_photo()), "photo.jpg", "image/jpeg")}
    response = post(client, new_key(), data=data, content_type="multipart/form-data")

    [error] = json_of(response, 503)
    assert error["code"] == 503 and error["error_code"] == "photo_storage_unavailable"
    assert reports() == []


def test_when_the_store_stops_its_photos_answer_503_and_the_pages_still_work(
    app, client, demo_city, monkeypatch
):
    server = MotoServer().start()
    try:
        for name in UNSET:
            monkeypatch.delenv(name, raising=False)
        for name, value in server.env.items():
            monkeypatch.setenv(name, value)
        app.config["PHOTO_STORAGE"] = f"s3://{server.new_bucket()}/photos"
        report = submit(demo_city, photos=[process_upload(camera_photo())])
        db.session.commit()
        url = f"/media/{report.photos[0].storage_key}"
        assert client.get(url).status_code == 200
    finally:
        server.stop()

    response = client.get(url)
    assert response.status_code == 503
    assert "Les photos ne peuvent pas être affichées pour le moment" in text(response)
    assert client.get(f"/reports/{report.reference}").status_code == 200
