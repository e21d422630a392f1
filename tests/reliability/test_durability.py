"""Reports are never lost: clients submit to the app under gunicorn, the server is killed with
SIGKILL mid-run and started again. Every submission answered 201 is stored exactly once,
retries with the same Idempotency-Key make no second report, and every notification the
reports caused is delivered after the restart, once."""

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import BACKENDS
from tests.notify.helpers import SmtpServer, free_port
from tests.reliability.servers import wait_until_serving

BIN = Path(sys.executable).parent
SUBMISSIONS = 60
CLIENTS = 6
TOWN_HALL = (48.8245, 2.2735)
LOAD_DEMO_CITY = """
from tellcity import create_app
from tellcity.demo.services import load_city_file
from tellcity.extensions import db

with create_app().app_context():
    load_city_file()
    db.session.commit()
"""


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'durable.sqlite3'}"
    return request.getfixturevalue("scratch_databases").create()


class Server:
    """`gunicorn -w 2 "tellcity:create_app()"` in a process group of its own."""

    def __init__(self, env: dict, port: int):
        self.env, self.port, self.process = env, port, None

    def start(self) -> "Server":
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "-w",
                "2",
                "-b",
                f"127.0.0.1:{self.port}",
                "-t",
                "30",
                "tellcity:create_app()",
            ],
            env=self.env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until_serving(f"http://127.0.0.1:{self.port}")
        return self

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def submit(port: int, key: str) -> tuple[int, dict | None]:
    body = json.dumps(
        {
            "category": "pothole",
            "lat": TOWN_HALL[0],
            "lon": TOWN_HALL[1],
            "description": f"Trou {key}",
            "email": f"{key}@example.org",
        }
    ).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/reports",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Idempotency-Key": key},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, None
    except (OSError, http.client.HTTPException):
        # No answer, or half of one (killed between the headers and the body): the server
        # died under the request.
        return 0, None


def test_answered_submissions_survive_a_kill_9_and_are_notified_once(database_url, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "TELLCITY_INSTANCE_PATH": str(tmp_path / "instance"),
        "TELLCITY_DATABASE_URL": database_url,
        "TELLCITY_SECRET_KEY": "durability",
        "TELLCITY_RATELIMIT_SUBMIT": "100000 per minute",
        "TELLCITY_GEOCODER_OPTIONS": json.dumps({"domain": "127.0.0.1:9", "scheme": "http"}),
    }
    subprocess.run([str(BIN / "tellcity"), "init"], env=env, check=True, capture_output=True)
    subprocess.run([sys.executable, "-c", LOAD_DEMO_CITY], env=env, check=True, capture_output=True)
    server = Server(env, port).start()

    answers: dict[str, dict] = {}
    keys = [f"durable-{n:03d}" for n in range(SUBMISSIONS)]
    lock = threading.Lock()

    def client(mine: list[str]):
        for key in mine:
            status, body = submit(port, key)
            if status == 201:
                with lock:
                    answers[key] = body

    threads = [threading.Thread(target=client, args=(keys[i::CLIENTS],)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    while len(answers) < SUBMISSIONS // 3:
        time.sleep(0.02)
    server.kill()  # mid-run: some requests are in flight, some not sent yet
    for thread in threads:
        thread.join()
    assert 0 < len(answers) < SUBMISSIONS

    server = Server(env, port).start()
    try:
        for key in keys:  # a client retries everything it is not sure of, and one it is
            if key not in answers or key == next(iter(answers)):
                status, body = submit(port, key)
                # 200 replays a report made before the kill (its answer may have been lost)
                assert status in (201, 200), key
                if key in answers:
                    assert status == 200 and body == answers[key]  # the first answer, again
                answers[key] = body
    finally:
        server.kill()

    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT idempotency_key, reference FROM reports WHERE source = 'api'")
        ).all()
    engine.dispose()
    stored = {key.removeprefix("api:"): reference for key, reference in rows}
    assert len(rows) == SUBMISSIONS == len(stored)
    assert all(stored[key] == body["reference"] for key, body in answers.items())

    smtp = SmtpServer(free_port()).start()
    try:
        worker_env = {
            **env,
            "TELLCITY_MAIL_SERVER": "127.0.0.1",
            "TELLCITY_MAIL_PORT": str(smtp.port),
        }
        subprocess.run(
            [str(BIN / "tellcity"), "worker", "--once"],
            env=worker_env,
            check=True,
            capture_output=True,
            timeout=120,
        )
    finally:
        smtp.stop()
    to_department = smtp.to("voirie@issy.example.org")
    subjects = " ".join(message["Subject"] for message in to_department)
    assert len(to_department) == SUBMISSIONS
    assert all(reference in subjects for reference in stored.values())
    assert len(set(smtp.message_ids())) == len(smtp.message_ids())
