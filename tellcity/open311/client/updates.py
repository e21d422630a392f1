"""Following the reports forwarded to departments' own Open311 systems, and bringing what
their staff do there back to our reports (issue 22, item 2): the worker's job
`follow_forwarded` ("open311-updates").

What is followed: every forwarded request known there by its id (RemoteRequest state "open"),
and those closed there (state "closed") for REOPEN_WINDOW after their last change, since the
remote may reopen them. A request whose report has left the department (transferred away),
or closed there that long ago, is no longer followed ("stopped").

How: a department whose system offers mySociety's `servicerequestupdates` is asked once per
run for the updates since the oldest last sync of its requests due (minus OVERLAP, for clocks
that disagree; at most 90 days); one that answers it 404 or 400 is remembered not to offer
it (`Department.open311_offers_updates`), and each of its requests is then asked for by
`requests/{id}`, its `updated_datetime` compared with the last one seen.

How often (by the age of the forward, `sync_interval`): every 5 minutes its first day, hourly
its first week, daily after; at most OPEN311_SYNC_BATCH requests per run, the longest due
first. A remote that does not answer (no connection, a timeout, a 5xx) only delays: the
error is kept in `last_error`, the request is asked again at its next time, and the window
of updates still starts at its last successful sync, so nothing is lost.

The remote's status onto ours (`our_moves`): "closed" resolves an open report (a problem
"resolved", a suggestion "done"), or, when the remote's extended status says it was refused
(not its responsibility, a duplicate, no further action...), closes it as "cannot be acted
on" (a suggestion "declined"), with the remote's words as the public text; "open" after
"closed" reopens it; an open report follows the remote's extended status when it names one of
ours (acknowledged, in progress), and otherwise keeps its status. Words without a move are a
public reply (the only thing an outside body's system does to a report referred to it, which
the referral closed here). Every change goes through the lifecycle's `transition` or the
public reply, under the department's name (core.permissions.Actor.remote), so the resident
and the followers are told by email as of any staff change. Each update is applied once (its
id in `applied_updates`), in the remote's order.
"""

import hashlib
import logging
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from tellcity.core.db import utcnow
from tellcity.core.errors import TellCityError
from tellcity.core.permissions import Actor
from tellcity.core.transaction import unit_of_work
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.open311.client import remote
from tellcity.open311.client.models import RemoteRequest, RemoteState
from tellcity.open311.schemas import w3c
from tellcity.reports import services as reports
from tellcity.reports.lifecycle import (
    NEEDS_PUBLIC_TEXT,
    PROBLEM_CLOSINGS,
    PROBLEM_MOVES,
    REASON_CODES,
    REOPENED_STATUS,
    SUGGESTION_CLOSINGS,
    SUGGESTION_MOVES,
    transition,
)
from tellcity.reports.models import Report
from tellcity.reports.services import TEXT_MAX
from tellcity.reports.states import REOPEN_WINDOW, Kind, Status, is_open

logger = logging.getLogger(__name__)

#: How often a forwarded request is asked about, by the age of the forward: (up to this age,
#: every so often); past the last age, LATER.
SCHEDULE = ((timedelta(days=1), timedelta(minutes=5)), (timedelta(days=7), timedelta(hours=1)))
LATER = timedelta(days=1)
#: How far before a request's last sync its window of updates starts (clocks disagree).
OVERLAP = timedelta(minutes=10)
#: The longest window servicerequestupdates is asked for (TellCity answers 90 days at most).
LONGEST_WINDOW = timedelta(days=89)
#: An answer of servicerequestupdates this long may have left later updates out (TellCity's
#: pages are of 1,000): the requests are then known to be synced up to its last update only.
FULL_PAGE = 1000
#: A claimed request is not claimed again by another worker for this long.
LEASE = timedelta(minutes=10)
FOLLOWED = (RemoteState.OPEN, RemoteState.CLOSED)

#: Extended statuses (mySociety's, FixMyStreet's, TellCity's own) that close a request
#: without the work done.
REFUSALS = frozenset(
    {
        "not_actionable",
        "not_councils_responsibility",
        "no_further_action",
        "internal_referral",
        "duplicate",
        "referred",
        "rejected",
        "declined",
        "wont_fix",
    }
)
#: Our closing status for a remote's closing: (done, refused) by kind.
CLOSINGS = {
    Kind.PROBLEM: (Status.RESOLVED, Status.NOT_ACTIONABLE),
    Kind.SUGGESTION: (Status.DONE, Status.DECLINED),
}
#: The open extended statuses that name one of ours.
OPEN_DETAILS = {
    "acknowledged": Status.ACKNOWLEDGED,
    "investigating": Status.ACKNOWLEDGED,
    "in_progress": Status.IN_PROGRESS,
    "action_scheduled": Status.IN_PROGRESS,
    "under_review": Status.UNDER_REVIEW,
    "planned": Status.PLANNED,
}


@dataclass(frozen=True)
class RemoteUpdate:
    """One thing the remote says happened to a request."""

    #: What `applied_updates` keeps: "u:<update_id>", or "r:<updated_datetime>:<digest of
    #: status and notes>" when read from the request itself.
    key: str
    service_request_id: str
    #: Open311's "open" or "closed".
    status: str
    at: datetime
    text: str = ""
    #: The extended status, lower case ("in_progress"), when the remote gives one.
    detail: str = ""


@dataclass(frozen=True)
class Fetched:
    """What servicerequestupdates answered: the updates by request id, and until when they
    are complete (now; the last one's time when the answer was a full page)."""

    by_request: dict[str, list[RemoteUpdate]]
    until: datetime


def follow_forwarded(now: datetime | None = None, limit: int | None = None) -> int:
    """The worker's job: ask the remotes about the forwarded requests that are due (at most
    `limit`, by default OPEN311_SYNC_BATCH), apply what changed there, and schedule each one's
    next time. Commits each request's outcome on its own; a remote that fails delays its own
    requests only. Returns how many requests were asked about."""
    now = now or utcnow()
    limit = limit or current_app.config["OPEN311_SYNC_BATCH"]
    claimed = _claim_due(now, limit)
    by_department: dict[int, list[int]] = defaultdict(list)
    for request_id, department_id in claimed:
        by_department[department_id].append(request_id)
    for department_id, request_ids in by_department.items():
        _follow_department(db.session.get(Department, department_id), request_ids, now)
    return len(claimed)


def sync_interval(forward: RemoteRequest, now: datetime) -> timedelta:
    """How long until `forward` is asked about again, by the age of the forward."""
    age = now - (forward.sent_at or forward.created_at)
    return next((every for upto, every in SCHEDULE if age < upto), LATER)


def _claim_due(now: datetime, limit: int) -> list[tuple[int, int]]:
    """The (id, department id) of up to `limit` due requests, each leased to this run (its
    next_sync_at moved on, compared and set in one statement, so that two workers never
    take the same one), committed."""
    due = db.session.execute(
        sa.select(RemoteRequest.id, RemoteRequest.department_id, RemoteRequest.next_sync_at)
        .where(
            RemoteRequest.state.in_([str(state) for state in FOLLOWED]),
            sa.or_(RemoteRequest.next_sync_at.is_(None), RemoteRequest.next_sync_at <= now),
        )
        .order_by(RemoteRequest.next_sync_at.is_not(None), RemoteRequest.next_sync_at)
        .limit(limit)
    ).all()
    claimed = []
    with unit_of_work():
        for request_id, department_id, due_at in due:
            unchanged = (
                RemoteRequest.next_sync_at.is_(None)
                if due_at is None
                else RemoteRequest.next_sync_at == due_at
            )
            taken = db.session.execute(
                sa.update(RemoteRequest)
                .where(RemoteRequest.id == request_id, unchanged)
                .values(next_sync_at=now + LEASE)
            )
            if taken.rowcount == 1:
                claimed.append((request_id, department_id))
    return claimed


def _follow_department(department: Department, request_ids: list[int], now: datetime) -> None:
    forwards = db.session.scalars(
        sa.select(RemoteRequest).where(RemoteRequest.id.in_(request_ids)).order_by(RemoteRequest.id)
    ).all()
    try:
        if not department.open311_endpoint:
            raise remote.RemoteUnavailable("the department has no Open311 endpoint any more")
        updates = _updates_of(department, forwards, now)
    except remote.RemoteError as error:
        with unit_of_work():
            for forward in forwards:
                _delay(forward, str(error), now)
        return
    for request_id in request_ids:
        _follow_one(department, request_id, updates, now)


def _follow_one(
    department: Department, request_id: int, updates: Fetched | None, now: datetime
) -> None:
    """Follow one request and commit; a failure of ours (a bug, the database) is logged,
    rolled back, kept on the request, and delays it alone."""
    try:
        with unit_of_work():
            _follow(department, db.session.get(RemoteRequest, request_id), updates, now)
    except Exception as error:
        logger.exception("Following remote request %s failed", request_id)
        with unit_of_work():
            forward = db.session.get(RemoteRequest, request_id)
            _delay(forward, f"{type(error).__name__}: {error}", now)


def _updates_of(
    department: Department, forwards: list[RemoteRequest], now: datetime
) -> Fetched | None:
    """The department's updates since the oldest last sync of `forwards`; None when its
    system does not offer servicerequestupdates (learnt here at the first 404 or 400, and
    remembered). Raises remote.RemoteError when the remote fails otherwise."""
    if department.open311_offers_updates is False:
        return None
    start = min(_synced_at(forward) for forward in forwards) - OVERLAP
    start = max(start, now - LONGEST_WINDOW)
    # No end_date: the spec's times are to the second, and an end at this second would leave
    # out what the remote did later in it.
    address = _address(department, "servicerequestupdates.json", start_date=start)
    try:
        document = remote.get_json(address)
    except remote.RemoteRefused as refused:
        if refused.status not in (400, 404):
            raise
        department.open311_offers_updates = False
        return None
    department.open311_offers_updates = True
    if isinstance(document, dict):  # {"service_request_updates": [...]}, as XML nests it
        document = document.get("service_request_updates") or []
    found = _parsed(document, _update_of)
    updates: dict[str, list[RemoteUpdate]] = defaultdict(list)
    for update in found:
        updates[update.service_request_id].append(update)
    full = isinstance(document, list) and len(document) >= FULL_PAGE and found
    return Fetched(updates, min(now, max(u.at for u in found)) if full else now)


def _synced_at(forward: RemoteRequest) -> datetime:
    """Since when the remote's updates of `forward` are known here."""
    return forward.last_sync_at or forward.sent_at or forward.created_at


def _follow(
    department: Department,
    forward: RemoteRequest,
    updates: Fetched | None,
    now: datetime,
) -> None:
    report = db.session.get(Report, forward.report_id)
    if not _still_theirs(report, forward) or _closed_long_ago(forward, now):
        forward.state = RemoteState.STOPPED
        forward.next_sync_at = None
        return
    try:
        if updates is None:
            found = _request_as_update(department, forward)
        else:
            found = updates.by_request.get(forward.service_request_id, [])
    except remote.RemoteError as error:
        _delay(forward, str(error), now)
        return
    actor = Actor.remote(department)
    for update in sorted(found, key=lambda update: update.at):  # stable: the remote's order
        apply_update(forward, report, update, actor)
    forward.last_sync_at = updates.until if updates is not None else now
    forward.last_error = None
    forward.next_sync_at = now + sync_interval(forward, now)


def _request_as_update(department: Department, forward: RemoteRequest) -> list[RemoteUpdate]:
    """The request as its remote shows it now (GET requests/{id}), as an update unless it is
    older than the last one seen (apply_update skips the one already applied: same time,
    status and notes)."""
    path = f"requests/{forward.service_request_id}.json"
    document = remote.get_json(_address(department, path))
    found = _parsed(document if isinstance(document, list) else [document], _request_update)
    return [
        update
        for update in found[:1]
        if forward.remote_updated_at is None or update.at >= forward.remote_updated_at
    ]


def _delay(forward: RemoteRequest, error: str, now: datetime) -> None:
    """The remote did not answer this time: say so on the ticket, ask again later."""
    forward.last_error = error[:2000]
    forward.next_sync_at = now + sync_interval(forward, now)
    logger.warning("Open311 updates of remote request %s delayed: %s", forward.id, error)


def _still_theirs(report: Report, forward: RemoteRequest) -> bool:
    """The report is still the department's: routed to it (not transferred away since), or
    referred to it (an outside body)."""
    return forward.department_id in (report.department_id, report.referred_to_id)


def _closed_long_ago(forward: RemoteRequest, now: datetime) -> bool:
    closed_at = forward.remote_updated_at or forward.last_sync_at
    return (
        forward.state == RemoteState.CLOSED
        and closed_at is not None
        and now - closed_at > REOPEN_WINDOW
    )


def _address(department: Department, path: str, **query) -> str:
    times = {name: w3c(value, UTC) for name, value in query.items()}
    return remote.url(
        department.open311_endpoint,
        path,
        jurisdiction_id=department.open311_jurisdiction,
        api_key=department.open311_api_key,
        **times,
    )


# --- applying one update ----------------------------------------------------------------------


def apply_update(
    forward: RemoteRequest, report: Report, update: RemoteUpdate, actor: Actor
) -> None:
    """Apply `update` to `report` once: its status moves (`our_moves`) through the lifecycle,
    with the remote's words as their public text, or its words alone as a public reply."""
    applied = list(forward.applied_updates or [])
    if update.key in applied:
        return
    text = update.text.strip()[:TEXT_MAX]
    # An outside body's words on a report referred to it are replies: the referral closed it.
    referred = report.department_id != forward.department_id
    moves = [] if referred else our_moves(report, forward.remote_status, update)
    for number, status in enumerate(moves, start=1):
        last = number == len(moves)
        said = text if last or status in NEEDS_PUBLIC_TEXT else ""
        if not _move(report, status, said, actor):
            moves = []
            break
    if not moves and text:
        _reply(report, text, actor)
    forward.applied_updates = [*applied, update.key]
    forward.remote_status = update.status
    forward.state = RemoteState.CLOSED if update.status == "closed" else RemoteState.OPEN
    if forward.remote_updated_at is None or update.at > forward.remote_updated_at:
        forward.remote_updated_at = update.at


def our_moves(report: Report, remote_status: str | None, update: RemoteUpdate) -> list[Status]:
    """The statuses `report` goes through for `update`, given the remote's status before it
    (see the module's docstring)."""
    kind = Kind(report.kind)
    if update.status == "closed":
        if not report.is_open:
            return []
        done, refused = CLOSINGS[kind]
        return _path(kind, Status(report.status), refused if update.detail in REFUSALS else done)
    moves = []
    if not report.is_open:
        if remote_status != "closed":
            return []  # closed here, and still open there: ours stands
        moves.append(REOPENED_STATUS[kind])
    detail = OPEN_DETAILS.get(update.detail)
    current = moves[-1] if moves else Status(report.status)
    if detail is not None and detail != current:
        moves += _path(kind, current, detail)
    return moves


def _path(kind: Kind, start: Status, goal: Status) -> list[Status]:
    """The shortest run of our forward moves from the open status `start` to `goal` (an idea
    is planned before it is done), without `start`; empty when there is none."""
    moves = PROBLEM_MOVES if kind == Kind.PROBLEM else SUGGESTION_MOVES
    closings = PROBLEM_CLOSINGS if kind == Kind.PROBLEM else SUGGESTION_CLOSINGS
    paths, queue = {start: []}, deque([start])
    while queue:
        status = queue.popleft()
        for following in moves.get(status, frozenset()) | (closings if is_open(status) else set()):
            if following not in paths:
                paths[following] = [*paths[status], following]
                queue.append(following)
    return paths.get(goal, [])


def _move(report: Report, status: Status, text: str, actor: Actor) -> bool:
    """One status move as the remote; False (and nothing written) when our lifecycle does not
    allow it from where the report is."""
    if status in NEEDS_PUBLIC_TEXT and not text:
        text = _said_there(report, status, actor)
    reason = "other" if status in REASON_CODES else None
    try:
        transition(report, status, actor, text=text, reason=reason)
    except TellCityError as error:
        logger.info("Remote move of %s to %s not made: %s", report.reference, status, error)
        return False
    return True


def _reply(report: Report, text: str, actor: Actor) -> None:
    try:
        reports.reply(report, text, actor)
    except TellCityError as error:
        logger.info("Remote reply on %s not written: %s", report.reference, error)


def _said_there(report: Report, status: Status, actor: Actor) -> str:
    """The public text of a move that needs one, when the remote gave no words: in the city's
    language, as the residents read its pages."""
    with force_locale(report.city.locale):
        if is_open(status):
            return _(
                "%(department)s updated this report in its own system.", department=actor.label
            )
        return _("%(department)s closed this report in its own system.", department=actor.label)


# --- reading the remote's documents -----------------------------------------------------------


def _parsed(items: Iterable, read) -> list[RemoteUpdate]:
    """The items `read` could make sense of; the others are skipped (and logged)."""
    found = []
    for item in items if isinstance(items, list) else []:
        try:
            found.append(read(item))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            logger.warning("Open311 update not understood (%r): %.200r", error, item)
    return found


def _update_of(item: dict) -> RemoteUpdate:
    """A request_update of servicerequestupdates."""
    return RemoteUpdate(
        key=f"u:{item['update_id']}",
        service_request_id=str(item["service_request_id"]),
        status=_status(item["status"]),
        at=_moment(item["updated_datetime"]),
        text=str(item.get("description") or ""),
        detail=str(item.get("extended_status") or "").lower(),
    )


def _request_update(item: dict) -> RemoteUpdate:
    """A request of requests/{id}, as the update that made it what it is."""
    updated = item.get("updated_datetime") or item["requested_datetime"]
    notes = str(item.get("status_notes") or "")
    # Some systems give no updated_datetime: a new status or new notes are a change too.
    digest = hashlib.sha256(f"{item['status']}\n{notes}".encode()).hexdigest()[:16]
    return RemoteUpdate(
        key=f"r:{updated}:{digest}",
        service_request_id=str(item["service_request_id"]),
        status=_status(item["status"]),
        at=_moment(updated),
        text=notes,
        detail=str(item.get("extended_status") or "").lower(),
    )


def _status(value) -> str:
    status = str(value).lower()
    if status not in ("open", "closed"):
        raise ValueError(f"status {value!r}")
    return status


def _moment(value) -> datetime:
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
