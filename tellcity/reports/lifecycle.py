"""The report lifecycle: which status may follow which, who may make the move, what each move
requires, and the one function, `transition`, that makes every status change and writes its
event (and queues the notifications it causes) in the caller's transaction."""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _

from tellcity.core.db import utcnow
from tellcity.core.errors import Invalid, NotAllowed
from tellcity.core.permissions import Actor, can_handle, can_manage, is_reporter_of
from tellcity.departments.models import Department
from tellcity.notify import services as notify
from tellcity.reports.events import record
from tellcity.reports.models import Report, ReportEvent
from tellcity.reports.states import (
    REOPEN_WINDOW,
    STATUS_LABELS,
    EventType,
    Kind,
    Status,
    is_open,
)
from tellcity.sla.services import restart_deadlines

S = Status

#: Forward moves, made by the department's staff.
PROBLEM_MOVES: dict[Status, frozenset[Status]] = {
    S.NEW: frozenset({S.ACKNOWLEDGED, S.IN_PROGRESS, S.RESOLVED}),
    S.ACKNOWLEDGED: frozenset({S.IN_PROGRESS, S.RESOLVED}),
    S.IN_PROGRESS: frozenset({S.ACKNOWLEDGED, S.RESOLVED}),
}
SUGGESTION_MOVES: dict[Status, frozenset[Status]] = {
    S.NEW: frozenset({S.UNDER_REVIEW, S.PLANNED, S.DECLINED}),
    S.UNDER_REVIEW: frozenset({S.PLANNED, S.DECLINED}),
    S.PLANNED: frozenset({S.DONE, S.DECLINED}),
}
#: Closing moves allowed from any open status.
PROBLEM_CLOSINGS = frozenset({S.DUPLICATE, S.REFERRED, S.NOT_ACTIONABLE, S.REJECTED})
SUGGESTION_CLOSINGS = frozenset({S.DUPLICATE, S.REJECTED})
#: Where a reopened report goes back to.
REOPENED_STATUS = {Kind.PROBLEM: S.ACKNOWLEDGED, Kind.SUGGESTION: S.UNDER_REVIEW}

#: Reason codes a not_actionable or rejected closure must give.
REASON_CODES: dict[Status, tuple[str, ...]] = {
    S.NOT_ACTIONABLE: (
        "private_property",
        "not_city_responsibility",
        "insufficient_information",
        "cannot_locate",
        "already_planned",
        "other",
    ),
    S.REJECTED: ("spam", "abuse", "personal_data", "test", "other"),
}
#: Statuses whose move must come with a public text for the resident.
NEEDS_PUBLIC_TEXT = frozenset({S.RESOLVED, S.UNDER_REVIEW, S.PLANNED, S.DECLINED, S.DONE})
#: What a move needs besides its text, by the name `transition` takes it under: the moves
#: that need each (the staff's status form shows each field only for those).
MOVE_FIELDS: dict[str, frozenset[Status]] = {
    "reason": frozenset(REASON_CODES),
    "duplicate_of": frozenset({S.DUPLICATE}),
    "referred_to": frozenset({S.REFERRED}),
}


def within_reopen_window(report: Report, now: datetime | None = None) -> bool:
    """Whether the reporter may still confirm the fix of `report` or reopen it: it is resolved,
    and was resolved less than REOPEN_WINDOW ago."""
    now = now or utcnow()
    return (
        report.status == S.RESOLVED
        and report.resolved_at is not None
        and now - report.resolved_at <= REOPEN_WINDOW
    )


@dataclass(frozen=True)
class ReporterAnswer:
    """Where the reporter's answer to a resolution stands (`reporter_answer`)."""

    #: "awaited", "confirmed", "reopened", "expired" or "changed".
    state: str
    #: Since when: the resolution, the confirmation or the reopening.
    at: datetime | None = None
    #: For a reopening: whether the reporter made it.
    by_reporter: bool = False


def reporter_answer(report: Report, now: datetime | None = None) -> ReporterAnswer:
    """Whether the reporter may still confirm the fix of `report` or reopen it ("awaited"), or
    why not: they confirmed it, it was reopened (by them or by the staff), the window has
    passed, or the report moved on otherwise ("changed": closed another way since)."""
    if report.status == S.RESOLVED:
        if report.confirmed_at is not None:
            return ReporterAnswer("confirmed", report.confirmed_at)
        if within_reopen_window(report, now):
            return ReporterAnswer("awaited", report.resolved_at)
        return ReporterAnswer("expired", report.resolved_at)
    reopening = next((e for e in reversed(report.events) if e.type == EventType.REOPEN), None)
    if reopening is not None and is_open(report.status):
        reporter = Actor.reporter(report)
        by_reporter = reopening.actor_id is None and reopening.actor_label == reporter.label
        return ReporterAnswer("reopened", reopening.created_at, by_reporter)
    return ReporterAnswer("changed")


def next_statuses(report: Report) -> frozenset[Status]:
    """Every status `report` may move to from where it is (for somebody)."""
    status = Status(report.status)
    if is_open(status):
        moves = PROBLEM_MOVES if report.kind == Kind.PROBLEM else SUGGESTION_MOVES
        closings = PROBLEM_CLOSINGS if report.kind == Kind.PROBLEM else SUGGESTION_CLOSINGS
        return moves.get(status, frozenset()) | closings
    return frozenset({REOPENED_STATUS[Kind(report.kind)]})


def transition(
    report: Report,
    to_status: str,
    actor: Actor,
    *,
    text: str = "",
    reason: str | None = None,
    duplicate_of: Report | None = None,
    referred_to: Department | None = None,
    note: dict | None = None,
    now: datetime | None = None,
) -> ReportEvent:
    """Move `report` to `to_status` as `actor`, write the event and queue its notifications.
    `text` is what the actor wrote; `note`, what the system says of the move (a message code
    and its parameters, told in the reader's language by reports.history.system_note).

    Raises NotAllowed when the move does not exist from the current status or the actor may not
    make it, and Invalid when what the move requires is missing (a public text to resolve, the
    original of a duplicate, an external body to refer to, a reason code to close).
    """
    now = now or utcnow()
    to_status = _known_status(to_status)
    from_status = report.status
    text = (text or "").strip()
    reopening = not is_open(from_status)
    _check_move(report, to_status, actor, reopening, now)
    _check_requirements(report, to_status, text, reason, duplicate_of, referred_to)

    _apply(report, to_status, reason, duplicate_of, referred_to, now)
    event = _record(report, actor, from_status, to_status, text, reason, reopening, now, note)
    _notify(report, event, to_status, reopening, actor)
    return event


def _known_status(status: str) -> Status:
    try:
        return Status(status)
    except ValueError:
        raise Invalid(
            _("unknown status %(status)s", status=status), code="unknown_status", field="status"
        ) from None


def _check_move(report: Report, to: Status, actor: Actor, reopening: bool, now: datetime) -> None:
    if to not in next_statuses(report):
        raise NotAllowed(
            _(
                "this report cannot go from %(old)s to %(new)s",
                old=STATUS_LABELS[report.status],
                new=STATUS_LABELS[to],
            ),
            code="forbidden_transition",
        )
    if reopening and actor.kind == "reporter":
        _check_reporter_reopen(report, actor, now)
    elif reopening:
        if not can_manage(actor, report):
            raise NotAllowed(_("only the department's managers can reopen a closed report"))
    elif not can_handle(actor, report):
        raise NotAllowed(_("only the department's staff can change this report's status"))


def _check_reporter_reopen(report: Report, actor: Actor, now: datetime) -> None:
    if not is_reporter_of(actor, report):
        raise NotAllowed(_("this link is for another report"))
    if report.status != S.RESOLVED:
        raise NotAllowed(_("only a resolved report can be reopened by its reporter"))
    if report.confirmed_at is not None:
        raise NotAllowed(
            _("you confirmed this fix: if the problem is back, please file a new report"),
            code="already_confirmed",
        )
    if not within_reopen_window(report, now):
        raise NotAllowed(
            _("a report can be reopened within 30 days of its resolution"), code="reopen_expired"
        )


def _check_requirements(report, to, text, reason, duplicate_of, referred_to) -> None:
    if to in NEEDS_PUBLIC_TEXT and not text:
        raise Invalid(
            _(
                "moving to %(status)s needs a public text for the resident",
                status=STATUS_LABELS[to],
            ),
            field="text",
        )
    if to in MOVE_FIELDS["duplicate_of"]:
        _check_original(report, duplicate_of)
    if to in MOVE_FIELDS["referred_to"]:
        _check_external_body(report, referred_to)
    if to in MOVE_FIELDS["reason"] and reason not in REASON_CODES[to]:
        codes = ", ".join(REASON_CODES[to])
        raise Invalid(
            _(
                "closing as %(status)s needs a reason code: one of %(codes)s",
                status=STATUS_LABELS[to],
                codes=codes,
            ),
            field="reason",
        )


def _check_original(report: Report, original: Report | None) -> None:
    if original is None:
        raise Invalid(_("a duplicate needs the report it duplicates"), field="duplicate_of")
    if original.id == report.id or original.city_id != report.city_id:
        raise Invalid(
            _("a report can only duplicate another report of its city"), field="duplicate_of"
        )
    if original.status == S.DUPLICATE:
        raise Invalid(
            _(
                "%(reference)s is itself a duplicate: point at the report it duplicates",
                reference=original.reference,
            ),
            field="duplicate_of",
        )


def _check_external_body(report: Report, body: Department | None) -> None:
    if body is None or not body.is_external or body.city_id != report.city_id:
        raise Invalid(_("a referral needs one of the city's external bodies"), field="referred_to")


def _apply(report, to, reason, duplicate_of, referred_to, now) -> None:
    if report.acknowledged_at is None and to != S.NEW:
        report.acknowledged_at = now
    if is_open(to) and not is_open(report.status):
        # A reopened report gets its category's time again, not its old (passed) deadline.
        restart_deadlines(report, now)
    if to in (S.RESOLVED, S.DONE):
        report.resolved_at = now
    if is_open(to):
        report.closed_at = report.resolved_at = report.confirmed_at = None
        report.close_reason = None
        report.duplicate_of_id = report.referred_to_id = None
    else:
        report.closed_at = now
        report.close_reason = reason
        report.duplicate_of_id = duplicate_of.id if duplicate_of else None
        report.referred_to_id = referred_to.id if referred_to else None
    report.status = to


def _record(report, actor, from_status, to, text, reason, reopening, now, note) -> ReportEvent:
    data = {**(note or {}), **({"reason": reason} if reason else {})}
    if report.duplicate_of_id:
        data["duplicate_of"] = report.duplicate_of_id
    if report.referred_to_id:
        data["referred_to"] = report.referred_to_id
    move = {
        "type_": EventType.REOPEN if reopening else EventType.STATUS_CHANGE,
        "from_value": from_status,
        "to_value": to,
        "data": data or None,
        "now": now,
    }
    if reopening and is_reporter_of(actor, report):
        # A resident's reopening comment goes to the department, not to the public page:
        # the public timeline gets the reopening alone, without their words.
        record(report, actor, is_public=True, **move)
        return record(report, actor, text=text, is_public=False, **move)
    return record(report, actor, text=text, is_public=True, **move)


def _notify(report, event, to, reopening, actor) -> None:
    """The department hears of a resident's reopening, the outside body of its referral; the
    reporter and followers of every move, with or without a public text (the reporter not of
    the reopening they made themselves)."""
    by_reporter = reopening and is_reporter_of(actor, report)
    if by_reporter:
        notify.notify_reopen(report, event)
    elif to == S.REFERRED:
        notify.notify_referral(report, event)
    notify.notify_status_change(report, event, by_reporter=by_reporter)
