"""SQLite's writers wait in line on a lock file beside the database, from a transaction's first
write to its end, instead of polling in SQLite's busy handler.

SQLite lets one transaction write at a time. Its own wait (the busy timeout) polls, sleeping
1, 2, 5, 10 ms... between tries: two processes taking turns at short writes each slept longer
than the other wrote. Here the next writer waits on an exclusive `flock` of `<database>-writer`
and the kernel wakes it the moment the slot is free. SQLite's lock still decides who writes;
the queue only orders the wait, so it can make writers faster, never wrong. Measured with
bench/submit.py (see bench/README.md). Only the submission calls `wait_to_write`: it is the
write that comes in bursts; other writers go straight to SQLite's lock, as before.

Its limits:

- **SQLite files only.** On PostgreSQL (which locks rows, not the database), on an in-memory
  database, or with no file to lock beside, `wait_to_write` does nothing.
- **It orders processes, not the threads of one process.** A flock belongs to an open file,
  and each process opens the lock file once and shares it between its threads: a second thread
  of a process that holds the slot takes it at once, and the first thread to end its
  transaction frees it for both. The other thread is then still ordered by SQLite's own lock
  (the busy timeout), as without the queue: it loses its place in line, never correctness.
  That is acceptable because production runs gunicorn's sync workers, one request at a time
  per process; threads share a process only under `flask run` and in tests. A child forked by
  a process that had opened the lock file opens its own (the parent's would order the two
  together as one).
- **A process that dies holding the slot frees it.** The kernel drops a flock when the last
  descriptor of its open file closes, which a process's exit does, even by SIGKILL: the next
  writer in line goes on; the lock file, empty, stays for the next time. A process that hangs
  while holding it makes the others wait as long as it hangs (a flock has no timeout; SQLite's
  own lock would make them fail after the busy timeout instead): gunicorn's worker timeout
  (30 s) kills such a worker, which frees the slot.
- **A transaction that already writes does not wait** (it holds SQLite's lock: waiting for a
  writer who waits for it would stall both until the busy timeout).
"""

import fcntl
import os

from sqlalchemy import event
from sqlalchemy.orm import Session

#: session.info key: the lock file this session holds while it writes.
_WRITER = "tellcity.writer_lock"

#: The lock file's descriptor, by database, opened once per process (a flock belongs to an
#: open file: every process needs its own).
_lock_files: dict[str, int] = {}


def wait_to_write(session: Session) -> None:
    """On a SQLite file, wait in line for the database's single writer slot before the
    transaction's first write; the slot is freed when the transaction ends (commit or
    rollback). Nothing to do on PostgreSQL, or if the transaction already writes."""
    connection = session.connection()
    if connection.dialect.name != "sqlite" or _WRITER in session.info:
        return
    dbapi_connection = connection.connection.driver_connection
    path = connection.engine.url.database
    if dbapi_connection.in_transaction or not path or path == ":memory:":
        return  # already writing (it holds SQLite's lock), or no file to lock beside
    descriptor = _lock_file(os.path.abspath(path))
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    session.info[_WRITER] = descriptor


def close_lock_files() -> None:
    """Close the lock files this process opened; the next writer opens its database's again.
    For a forked child, and for tests, whose every database is a new file."""
    while _lock_files:
        os.close(_lock_files.popitem()[1])


def _lock_file(database: str) -> int:
    descriptor = _lock_files.get(database)
    if descriptor is None:
        descriptor = os.open(database + "-writer", os.O_RDWR | os.O_CREAT, 0o600)
        _lock_files[database] = descriptor
    return descriptor


@event.listens_for(Session, "after_transaction_end")
def _stop_writing(session: Session, transaction) -> None:
    if transaction.parent is None and _WRITER in session.info:
        fcntl.flock(session.info.pop(_WRITER), fcntl.LOCK_UN)


os.register_at_fork(after_in_child=close_lock_files)
