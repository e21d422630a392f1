"""The report lifecycle's vocabulary: kinds, statuses, priorities, sources, and the mapping of
statuses to Open311's open/closed. The transitions between them build on these names."""

from datetime import timedelta
from enum import StrEnum

from flask_babel import lazy_gettext as _l


class Kind(StrEnum):
    PROBLEM = "problem"
    SUGGESTION = "suggestion"


class Status(StrEnum):
    # problems
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    DUPLICATE = "duplicate"
    REFERRED = "referred"
    NOT_ACTIONABLE = "not_actionable"
    REJECTED = "rejected"
    # suggestions (they start as NEW too)
    UNDER_REVIEW = "under_review"
    PLANNED = "planned"
    DECLINED = "declined"
    DONE = "done"


PROBLEM_STATUSES = (
    Status.NEW,
    Status.ACKNOWLEDGED,
    Status.IN_PROGRESS,
    Status.RESOLVED,
    Status.DUPLICATE,
    Status.REFERRED,
    Status.NOT_ACTIONABLE,
    Status.REJECTED,
)
SUGGESTION_STATUSES = (
    Status.NEW,
    Status.UNDER_REVIEW,
    Status.PLANNED,
    Status.DECLINED,
    Status.DONE,
    Status.DUPLICATE,
    Status.REJECTED,
)

#: Statuses Open311 reports as "open"; every other status is "closed".
OPEN_STATUSES = frozenset(
    {Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.UNDER_REVIEW, Status.PLANNED}
)

#: A resolved report can be confirmed or reopened by its reporter this long after it was
#: resolved (tellcity.reports.lifecycle.within_reopen_window); the links of the resolution
#: email last as long.
REOPEN_WINDOW = timedelta(days=30)


def is_open(status: str) -> bool:
    """Whether a report in `status` is still being dealt with (Report.is_open, for a report)."""
    return status in OPEN_STATUSES


def open311_status(status: str) -> str:
    """Open311's two-valued status for one of ours."""
    return "open" if is_open(status) else "closed"


class Priority:
    """Lower numbers come first in a queue."""

    URGENT = 1
    HIGH = 2
    NORMAL = 3
    LOW = 4
    NAMES = {URGENT: "urgent", HIGH: "high", NORMAL: "normal", LOW: "low"}


class Source(StrEnum):
    WEB = "web"
    API = "api"
    OPEN311 = "open311"
    IMPORT = "import"


class EventType(StrEnum):
    CREATED = "created"
    STATUS_CHANGE = "status_change"
    TRANSFER = "transfer"
    ASSIGNMENT = "assignment"
    PRIORITY_CHANGE = "priority_change"
    PUBLIC_REPLY = "public_reply"
    #: A resident's comment on the report's page (public unless hidden by a moderator).
    COMMENT = "comment"
    INTERNAL_NOTE = "internal_note"
    MERGE = "merge"
    PHOTO_ADDED = "photo_added"
    MODERATION = "moderation"
    EDIT = "edit"
    CONFIRMATION = "confirmation"
    REOPEN = "reopen"
    ESCALATION = "escalation"


#: Events that move a report's status: their `to_value` is the new status.
STATUS_EVENTS = (EventType.STATUS_CHANGE, EventType.REOPEN)


#: What a resident reads for each status (translated when shown).
STATUS_LABELS = {
    Status.NEW: _l("new"),
    Status.ACKNOWLEDGED: _l("acknowledged"),
    Status.IN_PROGRESS: _l("in progress"),
    Status.RESOLVED: _l("resolved"),
    Status.DUPLICATE: _l("duplicate"),
    Status.REFERRED: _l("referred to the competent body"),
    Status.NOT_ACTIONABLE: _l("cannot be acted on"),
    Status.REJECTED: _l("rejected"),
    Status.UNDER_REVIEW: _l("under review"),
    Status.PLANNED: _l("planned"),
    Status.DECLINED: _l("declined"),
    Status.DONE: _l("done"),
}

#: What staff read for each kind of report and each source (translated when shown).
KIND_LABELS = {Kind.PROBLEM: _l("problem"), Kind.SUGGESTION: _l("idea")}
SOURCE_LABELS = {
    Source.WEB: _l("web form"),
    Source.API: _l("app (API)"),
    Source.OPEN311: _l("Open311 app"),
    Source.IMPORT: _l("import"),
}

#: What staff read for each priority (translated when shown).
PRIORITY_LABELS = {
    Priority.URGENT: _l("urgent"),
    Priority.HIGH: _l("high"),
    Priority.NORMAL: _l("normal"),
    Priority.LOW: _l("low"),
}
