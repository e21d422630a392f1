"""tellcity.core.writer_queue: on SQLite, writers wait in line on a lock file beside the
database, from their first write to the end of their transaction."""

import fcntl
import os
import signal
import subprocess
import sys
import threading

import pytest
import sqlalchemy as sa

from tellcity.core.writer_queue import wait_to_write
from tellcity.extensions import db
from tellcity.reports.models import Report
from tests.reports.helpers import submit

BODY = {
    "category": "pothole",
    "lat": 48.8245,
    "lon": 2.2735,
    "address": "1 rue Minard",
    "description": "Deep hole",
}


@pytest.fixture
def lock_path(app, backend):
    if backend[0] != "sqlite":
        pytest.skip("PostgreSQL locks rows: nothing waits in line")
    return db.engine.url.database + "-writer"


def slot_is_free(lock_path: str) -> bool:
    """Whether another process could take the writer slot now."""
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(descriptor)  # closing releases it
    return True


def test_the_slot_is_held_from_the_first_write_to_the_commit(demo_city, lock_path):
    submit(demo_city, "pothole", description="Deep")
    assert not slot_is_free(lock_path)
    db.session.commit()
    assert slot_is_free(lock_path)


def test_a_rollback_frees_the_slot(demo_city, lock_path):
    submit(demo_city, "pothole", description="Deep")
    db.session.rollback()
    assert slot_is_free(lock_path)
    assert db.session.scalar(sa.select(sa.func.count(Report.id))) == 0


def test_a_submission_waits_while_another_process_writes(client, demo_city, lock_path):
    other = os.open(lock_path, os.O_RDWR | os.O_CREAT)  # as another worker's would be
    fcntl.flock(other, fcntl.LOCK_EX)
    answers = []
    thread = threading.Thread(
        target=lambda: answers.append(client.post("/api/v1/reports", json=BODY).status_code)
    )
    thread.start()
    thread.join(timeout=0.5)
    assert answers == [] and thread.is_alive()  # waiting its turn
    os.close(other)  # the other writer commits
    thread.join(timeout=10)
    assert answers == [201]
    assert slot_is_free(lock_path)


def test_a_writer_killed_while_it_holds_the_slot_frees_it(client, demo_city, lock_path):
    command = [sys.executable, "-c", HOLD_THE_SLOT, lock_path]
    with subprocess.Popen(command, stdout=subprocess.PIPE) as holder:  # another worker
        try:
            assert holder.stdout.readline() == b"holding\n"
            assert not slot_is_free(lock_path)
        finally:
            holder.send_signal(signal.SIGKILL)  # killed mid-write
    assert client.post("/api/v1/reports", json=BODY).status_code == 201
    assert slot_is_free(lock_path)


HOLD_THE_SLOT = """
import fcntl, os, sys, time
descriptor = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(descriptor, fcntl.LOCK_EX)
print("holding", flush=True)
time.sleep(60)
"""


def test_a_transaction_that_already_writes_does_not_wait(demo_city, lock_path):
    """It holds SQLite's own lock already: waiting for a writer who waits for it would stall
    both until the busy timeout."""
    demo_city.name = "Issy"
    db.session.flush()  # the first write: SQLite's lock is this transaction's
    other = os.open(lock_path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(other, fcntl.LOCK_EX)
    try:
        wait_to_write(db.session)  # returns at once
    finally:
        os.close(other)
    db.session.rollback()
