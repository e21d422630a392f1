"""Several machines, proven together: two app servers (gunicorn, each with an instance folder of
its own and the same secret key), two `tellcity worker` processes, one PostgreSQL database,
Redis for the rate limits, an S3 object store for the photos (moto's server) and an SMTP server
(aiosmtpd), as the README's production section lays them out.

What a resident or an administrator would notice if the machines did not agree: submissions
through either server, each email sent exactly once by the two workers together, a photo sent
through one server shown by the other, the rate limit counted across both servers, an
administrator's new category, zone and routing rule applied by the other server at its next
request (each change made through one server, used through the other), a session signed in on
one valid on the other, and both servers ready (Redis and the object store included) with the
same outbox figures for the operator; the worker's own metrics.

PostgreSQL only: SQLite is one machine's file. Redis on 127.0.0.1:6379, under a key prefix of
this run's own, so two runs never share counters.
"""

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.notify.helpers import SmtpServer, free_port
from tests.photos.images import camera_photo
from tests.photos.s3_server import UNSET
from tests.reliability.servers import wait_until_serving

BIN = Path(sys.executable).parent
SECRET = "two-servers-one-secret"
METRICS_TOKEN = "two-servers-scrape"
TOWN_HALL = (48.8245, 2.2735)
#: Submissions a client may make a minute, whichever server it reaches.
SUBMIT_LIMIT = 6
#: `tellcity init` and the demo city, whose administrator sets up two-factor sign-in (which
#: administrators must); prints their email, password and a recovery code.
SET_UP = """
import json
import pyotp
import sqlalchemy as sa
from tellcity import create_app
from tellcity.accounts import two_factor
from tellcity.accounts.models import User
from tellcity.cli import upgrade_database
from tellcity.demo.services import load_city_file
from tellcity.extensions import db

with create_app().app_context():
    upgrade_database()
    _city, accounts = load_city_file()
    admin = next(account for account in accounts if account.role == "admin")
    user = db.session.scalar(sa.select(User).where(User.email == admin.email))
    secret = two_factor.new_secret()
    codes = two_factor.set_up(user, secret, pyotp.TOTP(secret).now())
    db.session.commit()
    print(json.dumps([admin.email, admin.password, codes[0]]))
"""


def redis_is_running() -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", 6379)) == 0


pytestmark = pytest.mark.skipif(not redis_is_running(), reason="needs Redis on 127.0.0.1:6379")


@dataclass
class Site:
    servers: list[str]
    database_url: str
    smtp: SmtpServer
    admin: tuple[str, str]
    worker_logs: list[Path]
    folder: Path
    worker_metrics_port: int
    engine: sa.Engine = field(init=False)

    def __post_init__(self):
        self.engine = sa.create_engine(
            self.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
        )

    def scalar(self, sql: str, **params):
        with self.engine.connect() as connection:
            return connection.execute(sa.text(sql), params).scalar()

    def rows(self, sql: str) -> list:
        with self.engine.connect() as connection:
            return list(connection.execute(sa.text(sql)))


@pytest.fixture(scope="module")
def site(scratch_databases, moto_server, tmp_path_factory):
    """Both servers and both workers, started on the demo city; stopped after the module."""
    database_url = scratch_databases.create()
    tmp = tmp_path_factory.mktemp("two-servers")
    smtp = SmtpServer(free_port()).start()
    env = {
        **{name: value for name, value in os.environ.items() if name not in UNSET},
        **moto_server.env,  # the object store (moto's S3 server), as boto3 reads it
        "TELLCITY_PHOTO_STORAGE": f"s3://{moto_server.new_bucket()}/photos",
        "TELLCITY_DATABASE_URL": database_url,
        "TELLCITY_SECRET_KEY": SECRET,
        "TELLCITY_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "TELLCITY_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
        "TELLCITY_RATELIMIT_KEY_PREFIX": f"tellcity-test-{uuid.uuid4().hex}",
        "TELLCITY_RATELIMIT_SUBMIT": f"{SUBMIT_LIMIT} per minute",
        "TELLCITY_TRUSTED_PROXIES": "1",  # the test plays the load balancer: X-Forwarded-For
        "TELLCITY_METRICS_TOKEN": METRICS_TOKEN,
        "TELLCITY_MAIL_SERVER": "127.0.0.1",
        "TELLCITY_MAIL_PORT": str(smtp.port),
        "TELLCITY_GEOCODER_OPTIONS": json.dumps({"domain": "127.0.0.1:9", "scheme": "http"}),
    }
    set_up = subprocess.run(
        [sys.executable, "-c", SET_UP],
        env={**env, "TELLCITY_INSTANCE_PATH": str(tmp / "set-up")},
        check=True,
        capture_output=True,
        text=True,
    )
    admin = tuple(json.loads(set_up.stdout.splitlines()[-1]))
    processes, servers, logs = [], [], []
    try:
        for name in ("a", "b"):
            port = free_port()
            own = {**env, "TELLCITY_INSTANCE_PATH": str(tmp / f"server-{name}")}
            own["TELLCITY_BASE_URL"] = f"http://127.0.0.1:{port}"
            command = [str(BIN / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{port}"]
            processes.append(_start([*command, "tellcity:create_app()"], own, tmp / f"{name}.log"))
            servers.append(f"http://127.0.0.1:{port}")
        metrics_port = free_port()
        for name, options in (("1", ["--metrics-port", str(metrics_port)]), ("2", [])):
            own = {**env, "TELLCITY_INSTANCE_PATH": str(tmp / f"worker-{name}")}
            command = [str(BIN / "tellcity"), "worker", "--interval", "0.1", "--batch", "2"]
            command += options
            logs.append(tmp / f"worker-{name}.log")
            processes.append(_start(command, own, logs[-1]))
        for server in servers:
            wait_until_serving(server)
        running = Site(servers, database_url, smtp, admin, logs, tmp, metrics_port)
        yield running
        running.engine.dispose()
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        smtp.stop()


def _start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    with log.open("w") as output:
        return subprocess.Popen(
            command, env=env, start_new_session=True, stdout=output, stderr=subprocess.STDOUT
        )


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One person's browser: its cookies go to both servers (they share the host 127.0.0.1,
    and cookies are not kept apart by port), as they would to two servers behind one name."""

    def __init__(self):
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), NoRedirect()
        )

    def open(self, url: str, data: bytes | None = None, headers: dict | None = None):
        status, headers, body = self.open_bytes(url, data, headers)
        return status, headers, body.decode()

    def open_bytes(self, url: str, data: bytes | None = None, headers: dict | None = None):
        request = urllib.request.Request(url, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def submit_form(
        self, url: str, fields: dict, form_page: str | None = None, files: dict | None = None
    ):
        """POST `fields` (and `files`, as multipart) with the CSRF token of the form on
        `form_page` (default: `url`)."""
        status, _headers, page = self.open(form_page or url)
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert found, (status, page[:300])
        fields = {"csrf_token": found.group(1), **fields}
        if files:
            body, content_type = multipart(fields, files)
            return self.open(url, body, {"Content-Type": content_type})
        body = urllib.parse.urlencode(fields).encode()
        return self.open(url, body, {"Content-Type": "application/x-www-form-urlencoded"})


def multipart(fields: dict, files: dict[str, tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body of `fields` and `files` (name: (file name, type, content)),
    and its Content-Type."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    for name, (filename, content_type, content) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
        )
        parts.append(head.encode() + content + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def submit(server: str, client_address: str, **fields) -> tuple[int, dict]:
    """POST a report to the JSON API as the client at `client_address` (through the proxy)."""
    report = {
        "category": "pothole",
        "lat": TOWN_HALL[0],
        "lon": TOWN_HALL[1],
        "description": "Trou dans la chaussée",
        "email": f"resident-{uuid.uuid4().hex[:8]}@example.org",
        **fields,
    }
    status, _headers, body = Browser().open(
        f"{server}/api/v1/reports",
        json.dumps(report).encode(),
        {"Content-Type": "application/json", "X-Forwarded-For": client_address},
    )
    return status, json.loads(body)


def wait_until(condition, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_submissions_through_both_servers_are_each_emailed_exactly_once(site):
    a, b = site.servers
    references = []
    for n in range(10):
        status, body = submit((a, b)[n % 2], f"198.51.100.{n + 1}")
        assert status == 201, body
        references.append(body["reference"])
    for n, reference in enumerate(references):  # each server shows what the other filed
        other = (b, a)[n % 2]
        assert Browser().open(f"{other}/api/v1/reports/{reference}")[0] == 200

    def all_sent() -> bool:
        waiting = "SELECT count(*) FROM outbox_messages WHERE status IN ('pending', 'sending')"
        return site.scalar(waiting) == 0 and len(site.smtp.messages) >= 20

    assert wait_until(all_sent)
    time.sleep(0.5)  # a repeat sent late would show now
    received = site.smtp.message_ids()
    sent = {f"<{row[0]}@tellcity>" for row in site.rows("SELECT message_id FROM outbox_messages")}
    assert len(received) == len(set(received)) and set(received) == sent
    assert len(sent) >= 20  # the department and the resident, for each report
    for log in site.worker_logs:  # both workers took part
        assert "Sent outbox message" in log.read_text()


def test_a_photo_sent_through_one_server_is_shown_by_the_other(site):
    a, b = site.servers
    fields = {
        "category": "pothole",
        "lat": str(TOWN_HALL[0]),
        "lon": str(TOWN_HALL[1]),
        "description": "Trou, photo jointe",
    }
    body, content_type = multipart(fields, {"photos": ("p.jpg", "image/jpeg", camera_photo())})
    status, _headers, answer = Browser().open(
        f"{a}/api/v1/reports",
        body,
        {"Content-Type": content_type, "X-Forwarded-For": "192.0.2.80"},
    )
    assert status == 201, answer
    reference = json.loads(answer)["reference"]
    _status, _headers, public = Browser().open(f"{b}/api/v1/reports/{reference}")
    [shown] = json.loads(public)["photos"]
    for key in ("url", "thumbnail_url"):
        status, headers, content = Browser().open_bytes(shown[key])
        assert status == 200 and headers["Content-Type"] == "image/jpeg"
        assert content.startswith(b"\xff\xd8")  # a JPEG, served by B
    # Neither server kept it on its own disk: both read the object store.
    assert not [path for path in site.folder.glob("server-*/uploads/**/*") if path.is_file()]


def test_the_rate_limit_counts_across_both_servers(site):
    a, b = site.servers
    answers = [submit((a, b)[n % 2], "203.0.113.9")[0] for n in range(SUBMIT_LIMIT + 2)]
    assert answers == [201] * SUBMIT_LIMIT + [429, 429]
    assert submit(b, "203.0.113.10")[0] == 201  # another client is not held back


def test_a_session_and_an_admins_changes_hold_on_both_servers(site):
    a, b = site.servers
    browser = Browser()
    email, password, recovery_code = site.admin
    status, _headers, _page = browser.submit_form(
        f"{a}/account/signin", {"email": email, "password": password}
    )
    assert status == 302
    status, _headers, page = browser.submit_form(  # the second step, on the other server
        f"{b}/account/signin/code", {"code": recovery_code}
    )
    assert status == 302, page
    assert browser.open(f"{b}/staff/admin/")[0] == 200  # signed in on A and B, known on both
    assert browser.open(f"{a}/staff/admin/")[0] == 200
    assert Browser().open(f"{b}/staff/admin/")[0] == 302  # (a stranger is sent to sign in)

    voirie, proprete = (
        site.scalar("SELECT id FROM departments WHERE slug = :slug", slug=slug)
        for slug in ("voirie", "proprete")
    )
    category = {
        "kind": "problem",
        "code": "sinkhole",
        "name_fr": "Affaissement",
        "name_en": "Sinkhole",
        "department_id": str(voirie),
        "sla_hours": "8",
        "default_priority": "1",
        "is_active": "y",
        "attributes": "[]",
    }
    status, _headers, page = browser.submit_form(f"{a}/staff/admin/categories/new", category)
    assert status == 302, page
    _status, _headers, listed = Browser().open(f"{b}/api/v1/categories")
    assert "sinkhole" in [c["code"] for c in json.loads(listed)["categories"]]
    status, report = submit(b, "192.0.2.1", category="sinkhole")
    assert status == 201 and report["department"] == "Voirie et travaux"

    # A zone around the town hall (in place of the demo's), loaded through B...
    lat, lon = TOWN_HALL
    corners = [(-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)]
    zone = {
        "type": "Feature",
        "properties": {"name": "Autour de la mairie"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[lon + 0.002 * x, lat + 0.002 * y] for x, y in corners]],
        },
    }
    status, _headers, page = browser.submit_form(
        f"{b}/staff/admin/zones/upload",
        {"replace": "y"},
        files={"file": ("zone.geojson", "application/geo+json", json.dumps(zone).encode())},
    )
    assert status == 302, page
    # ... a rule sending sinkholes there to Propreté, made through A, which offers the zone...
    sinkhole = site.scalar("SELECT id FROM categories WHERE code = 'sinkhole'")
    zone_id = site.scalar("SELECT id FROM zones WHERE name = 'Autour de la mairie'")
    rule = {"category_id": str(sinkhole), "zone_id": str(zone_id), "department_id": str(proprete)}
    status, _headers, page = browser.submit_form(
        f"{a}/staff/admin/rules/new", rule, form_page=f"{a}/staff/admin/rules"
    )
    assert status == 302, page
    # ... and each server routes by both at its next submission.
    status, report = submit(b, "192.0.2.2", category="sinkhole")
    assert status == 201 and report["department"] == "Propreté urbaine"
    status, report = submit(a, "192.0.2.3", category="sinkhole", lat=48.8285, lon=2.2580)
    assert status == 201 and report["department"] == "Voirie et travaux"  # outside the zone


def test_both_servers_are_ready_and_show_the_same_outbox(site):
    waiting = "SELECT count(*) FROM outbox_messages WHERE status IN ('pending', 'sending')"
    assert wait_until(lambda: site.scalar(waiting) == 0)
    figures = []
    for server in site.servers:
        status, _headers, body = Browser().open(f"{server}/readyz")
        assert status == 200
        checks = {"database": "ok", "redis": "ok", "object_store": "ok"}
        assert json.loads(body)["checks"] == checks
        _status, _headers, metrics = Browser().open(
            f"{server}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
        )
        figures.append(re.findall(r"^tellcity_outbox_messages\{.*$", metrics, re.MULTILINE))
    assert figures[0] == figures[1] and len(figures[0]) == 3
    _status, _headers, worker = Browser().open(f"http://127.0.0.1:{site.worker_metrics_port}/")
    assert re.search(r'^tellcity_outbox_deliveries_total\{outcome="sent"\} [1-9]', worker, re.M)
    assert re.search(r"^tellcity_worker_cycle_seconds_count [1-9]", worker, re.M)
    assert 'tellcity_worker_job_seconds_count{job="warm_stats_snapshots"}' in worker
