"""One transaction per unit of work: a request, a CLI command, a worker's job.

Services flush; they never commit. A request commits once, after its view has answered
successfully (status below 400), and rolls back whatever went wrong: an error answer, an
exception, a commit that failed (which then goes through the app's error handlers like any
other: the database gone away is a 503). This is Indico's request handler, in `App`.

Outside a request, `unit_of_work()` is the same boundary around a block. What may happen only
once the data is committed (removing files the committed rows no longer need) is registered
with `after_commit`; what must undo an outside effect when the data is not kept (photo files
written before the commit) with `on_rollback`.
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from tellcity.extensions import db

log = logging.getLogger(__name__)

#: session.info keys: what to run when the transaction commits, and when it is rolled back.
_AFTER_COMMIT = "tellcity.after_commit"
_ON_ROLLBACK = "tellcity.on_rollback"
#: session.info key: the transaction is kept even when the request answers an error.
_KEEP_ON_ERROR = "tellcity.keep_on_error"


class App(Flask):
    """Flask, with one transaction per request around the view."""

    def dispatch_request(self):
        """The view's answer, made a response, then committed when it is a success and rolled
        back when it is not. Committing here, inside Flask's exception handling, lets a commit
        that fails (a constraint, the database gone) answer through the error handlers."""
        response = self.make_response(super().dispatch_request())
        if response.status_code < 400 or db.session.info.pop(_KEEP_ON_ERROR, False):
            db.session.commit()
        else:
            db.session.rollback()
        return response

    def handle_user_exception(self, e):
        db.session.rollback()
        return super().handle_user_exception(e)

    def handle_exception(self, e):
        db.session.rollback()
        return super().handle_exception(e)


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """Commit what the block wrote when it ends; roll it all back if it raises, and re-raise.
    For the CLI and the worker, which have no request to do it (a long job may use one per
    batch)."""
    try:
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


@contextmanager
def savepoint() -> Iterator[None]:
    """What the block writes is undone if it raises; the rest of the transaction goes on.

    Use this, not `session.begin_nested()` alone: Python's sqlite3 begins a transaction only
    before a write, so on SQLite a SAVEPOINT opened before any write starts a transaction of
    its own, and its RELEASE commits everything written so far (a bulk action cut off at the
    commit would leave its first tickets changed). The transaction is begun first."""
    connection = db.session.connection()
    if (
        connection.dialect.name == "sqlite"
        and not connection.connection.driver_connection.in_transaction
    ):
        connection.exec_driver_sql("BEGIN")
    with db.session.begin_nested():
        yield


def keep_on_error() -> None:
    """Keep what this request writes even if it answers an error (4xx or 5xx answer, not an
    exception): a failed sign-in counts towards the account's lock although the form comes back
    with a 422. An exception still rolls everything back."""
    db.session.info[_KEEP_ON_ERROR] = True


def after_commit(callback: Callable[[], object]) -> None:
    """Run `callback` once the current transaction is committed; forget it if the transaction
    is rolled back. It must not need the database; an error in it is logged, not raised (the
    data is committed all the same)."""
    db.session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def on_rollback(callback: Callable[[], object]) -> None:
    """Run `callback` if the current transaction is rolled back (or closed without a commit);
    forget it once the transaction commits. Same rules as `after_commit`."""
    db.session.info.setdefault(_ON_ROLLBACK, []).append(callback)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the transaction goes on
    session.info.pop(_ON_ROLLBACK, None)
    _run(session.info.pop(_AFTER_COMMIT, ()))


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_AFTER_COMMIT, None)
        session.info.pop(_KEEP_ON_ERROR, None)
        _run(session.info.pop(_ON_ROLLBACK, ()))


def _run(callbacks) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:
            log.exception("after the transaction: %r failed", callback)
