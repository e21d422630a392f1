"""A phone that retries, or a resident who taps the button twice: two submissions with the same
idempotency key reach two gunicorn workers at the same moment. Both get the one report's
answer (201 for the first, or 200 on Open311; 200 and `Idempotent-Replayed: true` for the
replay, with the same body; the web form's two taps lead to the same tracking page), never a
500, and the key files exactly one report, through /api/v1, Open311, the offline sender and the
web form alike. The request that lost leaves nothing: no reference number taken, no
notification queued, no photo file."""

import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import BACKENDS
from tests.notify.helpers import free_port
from tests.photos.images import photo
from tests.reliability.servers import wait_until_serving

BIN = Path(sys.executable).parent
WORKERS = 3
PAIRS = 24  # per front end: each pair is two requests sent at once
DOUBLE_TAPS = 12  # each loads the form, then sends it twice at once
TOWN_HALL = (48.8245, 2.2735)
ORIGIN = "http://127.0.0.1"
PHOTO = photo()
#: `tellcity init`, the demo city, and an Open311 key for it printed for the test.
SET_UP = """
from tellcity import create_app
from tellcity.accounts.api_keys import create_api_key
from tellcity.admin.access import CLI
from tellcity.cli import upgrade_database
from tellcity.demo.services import load_city_file
from tellcity.extensions import db

with create_app().app_context():
    upgrade_database()
    city, _accounts = load_city_file()
    _row, key = create_api_key("Appli test", city=city, actor=CLI)
    db.session.commit()
    print(key)
"""


@pytest.fixture(scope="module", params=BACKENDS)
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('race') / 'race.sqlite3'}"
    return request.getfixturevalue("scratch_databases").create()


@pytest.fixture(scope="module")
def server(database_url, tmp_path_factory):
    """`gunicorn -w 3 "tellcity:create_app()"` on the demo city, for all the tests of a
    database (each uses keys of its own): (base URL, Open311 key, uploads folder)."""
    tmp_path = tmp_path_factory.mktemp("instance")
    port = free_port()
    env = {
        **os.environ,
        "TELLCITY_INSTANCE_PATH": str(tmp_path / "instance"),
        "TELLCITY_DATABASE_URL": database_url,
        "TELLCITY_SECRET_KEY": "race",
        "TELLCITY_BASE_URL": f"{ORIGIN}:{port}",
        "TELLCITY_RATELIMIT_SUBMIT": "100000 per minute",
        "TELLCITY_GEOCODER_OPTIONS": json.dumps({"domain": "127.0.0.1:9", "scheme": "http"}),
    }
    set_up = subprocess.run(
        [sys.executable, "-c", SET_UP], env=env, check=True, capture_output=True, text=True
    )
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-w",
            str(WORKERS),
            "-b",
            f"127.0.0.1:{port}",
            "tellcity:create_app()",
        ],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"{ORIGIN}:{port}"
    try:
        wait_until_serving(base)
        yield base, set_up.stdout.split()[-1], tmp_path / "instance" / "uploads"
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def send(opener, request: urllib.request.Request) -> tuple[int, dict, bytes]:
    """The status, headers and body of the answer, whatever the status."""
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def at_once(make_request, opener=None) -> list[tuple[int, dict, bytes]]:
    """Send two requests made by `make_request()` at the same moment, from two threads."""
    opener = opener or urllib.request.build_opener(NoRedirect)
    requests = [make_request(), make_request()]
    answers = [None, None]
    start = threading.Barrier(2)

    def fire(n: int):
        start.wait()
        answers[n] = send(opener, requests[n])

    threads = [threading.Thread(target=fire, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def form(fields: dict) -> bytes:
    return urllib.parse.urlencode(fields).encode()


def report_fields(key: str) -> dict:
    return {
        "category": "pothole",
        "lat": TOWN_HALL[0],
        "lon": TOWN_HALL[1],
        "description": f"Trou {key}",
        "email": f"{key}@example.org",
    }


def api_request(base: str, _open311_key: str, key: str):
    """/api/v1, as multipart with a photo: the request that loses leaves no file behind."""
    body, content_type = multipart(report_fields(key), photos=PHOTO)
    return lambda: urllib.request.Request(
        f"{base}/api/v1/reports",
        data=body,
        method="POST",
        headers={"Content-Type": content_type, "Idempotency-Key": key},
    )


def multipart(fields: dict, **files: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body of `fields` and JPEG `files`, and its content type."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'Content-Disposition: form-data; name="{name}"\r\n\r\n{value}'.encode())
    for name, content in files.items():
        head = f'Content-Disposition: form-data; name="{name}"; filename="{name}.jpg"'
        parts.append(f"{head}\r\nContent-Type: image/jpeg\r\n\r\n".encode() + content)
    separator = f"--{boundary}\r\n".encode()
    body = b"".join(separator + part + b"\r\n" for part in parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def offline_request(base: str, _open311_key: str, key: str):
    return lambda: urllib.request.Request(
        f"{base}/report/send",
        data=form({**report_fields(key), "submission_key": key}),
        method="POST",
        headers={"Origin": base},
    )


def open311_request(base: str, open311_key: str, key: str):
    fields = {
        "api_key": open311_key,
        "service_code": "pothole",
        "lat": TOWN_HALL[0],
        "long": TOWN_HALL[1],
        "description": f"Trou {key}",
    }
    return lambda: urllib.request.Request(
        f"{base}/open311/v2/requests.json",
        data=form(fields),
        method="POST",
        headers={"Idempotency-Key": key},
    )


def reference_of(path: str, body: bytes) -> str:
    document = json.loads(body)
    return document[0]["service_request_id"] if "open311" in path else document["reference"]


def stored(database_url: str, sent: str) -> dict[str, int]:
    """How many reports were filed for each key starting with `sent` (written in their
    descriptions: the web form's key is its own, not the test's). Checks on the way that the
    requests that lost a race left nothing: no reference number taken, no notification
    queued twice."""
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT description, count(*) FROM reports"
                " WHERE description LIKE :sent GROUP BY description"
            ),
            {"sent": f"Trou {sent}%"},
        ).all()
        numbered = connection.scalar(sa.text("SELECT sum(last_number) FROM report_sequences"))
        reports = connection.scalar(sa.text("SELECT count(*) FROM reports"))
        queued = connection.execute(
            sa.text(
                "SELECT count(*), count(DISTINCT report_id || ' ' || recipient)"
                " FROM outbox_messages"
            )
        ).one()
    engine.dispose()
    assert numbered == reports  # references follow each other, none skipped
    assert queued[0] == queued[1]
    return dict(rows)


def photo_files(uploads: Path) -> int:
    return sum(1 for path in uploads.rglob("*") if path.is_file() and "pending" not in path.parts)


def photo_rows(database_url: str) -> int:
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        rows = connection.scalar(sa.text("SELECT count(*) FROM photos"))
    engine.dispose()
    return rows


@pytest.mark.parametrize(
    ("front_end", "created_status"),
    # Open311 answers a new request with 200, as GeoReport v2 clients expect.
    [(api_request, 201), (offline_request, 201), (open311_request, 200)],
    ids=["api", "offline", "open311"],
)
def test_two_submissions_with_one_key_at_once_answer_the_same_report(
    server, database_url, front_end, created_status
):
    base, open311_key, uploads = server
    failures = []
    for n in range(PAIRS):
        key = f"{front_end.__name__}-{n:03d}"
        make_request = front_end(base, open311_key, key)
        answers = at_once(make_request)
        replays = sorted(answers, key=lambda answer: "Idempotent-Replayed" in answer[1])
        statuses = [status for status, _headers, _body in replays]
        marks = [headers.get("Idempotent-Replayed") for _status, headers, _body in replays]
        if statuses != [created_status, 200] or marks != [None, "true"]:
            failures.append((key, statuses, marks))
            continue
        (_status, _headers, first), (_status, _headers, again) = replays
        assert first == again  # the first answer, again
        assert reference_of(make_request().full_url, first)
    errors = sum(statuses.count(500) for _key, statuses, _marks in failures)
    assert failures == [], f"{len(failures)} of {PAIRS} pairs, {errors} 500s: {failures[:3]}"
    counts = stored(database_url, f"{front_end.__name__}-")
    assert len(counts) == PAIRS and set(counts.values()) == {1}
    photos = photo_rows(database_url)
    assert photo_files(uploads) == 2 * photos  # each photo and its thumbnail, nothing else
    assert photos >= PAIRS or front_end is not api_request  # its requests each send one


def test_a_double_tap_on_the_form_files_one_report_and_shows_it_twice(server, database_url):
    base, _open311_key, _uploads = server
    failures = []
    for n in range(DOUBLE_TAPS):
        cookies = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(cookies), NoRedirect
        )
        with opener.open(f"{base}/report", timeout=30) as page:
            html = page.read().decode()
        fields = {
            name: re.search(rf'name="{name}"[^>]*value="([^"]*)"', html).group(1)
            for name in ("csrf_token", "submission_key")
        }
        fields.update(report_fields(f"tap-{n:03d}"), not_a_duplicate="y", questions_for="pothole")
        body = form(fields)
        answers = at_once(
            lambda body=body: urllib.request.Request(f"{base}/report", data=body, method="POST"),
            opener,
        )
        statuses = [status for status, _headers, _body in answers]
        locations = {headers.get("Location") for _status, headers, _body in answers}
        if statuses != [302, 302] or len(locations) != 1:
            failures.append((n, statuses, locations))
            continue
        [location] = locations
        assert "/track/" in location
        with opener.open(urllib.parse.urljoin(base, location), timeout=30) as tracking:
            assert tracking.status == 200
    errors = sum(statuses.count(500) for _n, statuses, _locations in failures)
    assert failures == [], (
        f"{len(failures)} of {DOUBLE_TAPS} double taps, {errors} 500s: {failures[:3]}"
    )
    counts = stored(database_url, "tap-")
    assert len(counts) == DOUBLE_TAPS and set(counts.values()) == {1}
