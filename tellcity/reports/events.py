"""Writing a report's history. Every ReportEvent is built by `new_event`, whoever writes it (a
ticket action, a status change, a moderation, the SLA escalation, a submission), so an
event's actor, time and values are always filled in the same way; `record` adds it and
flushes, as a service does."""

from datetime import datetime

from tellcity.core.db import utcnow
from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.reports.models import Report, ReportEvent


def new_event(
    report: Report | int,
    actor: Actor,
    type_: str,
    *,
    text: str = "",
    is_public: bool = False,
    from_value=None,
    to_value=None,
    data: dict | None = None,
    now: datetime | None = None,
) -> ReportEvent:
    """An event of `report` by `actor`, not added to the session. `report` may be the report's
    id alone: the event then stays out of the report's pending changes (a submission writes
    it with core.db.write_new). Values are stored as text; `now` defaults to the clock."""
    owner = {"report_id": report} if isinstance(report, int) else {"report": report}
    return ReportEvent(
        **owner,
        type=type_,
        text=text,
        is_public=is_public,
        from_value=None if from_value is None else str(from_value),
        to_value=None if to_value is None else str(to_value),
        data=data,
        created_at=now or utcnow(),
        **actor.event_fields,
    )


def record(report: Report, actor: Actor, type_: str, **fields) -> ReportEvent:
    """Write an event of the report's history (`new_event`'s arguments), flushed: its id is
    known."""
    event = new_event(report, actor, type_, **fields)
    db.session.add(event)
    db.session.flush()
    return event
