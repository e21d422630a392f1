"""Staff actions that combine the domain's basic ones: merging duplicates, moderation, reply
templates, bulk actions. Like every service they flush and never commit."""

import secrets
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from tellcity.accounts.models import User
from tellcity.core.db import utcnow
from tellcity.core.errors import Invalid, NotAllowed, TellCityError
from tellcity.core.i18n import date_local, times_in
from tellcity.core.permissions import Actor, can_handle, can_manage
from tellcity.core.transaction import savepoint
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.reports import services as reports
from tellcity.reports.events import record
from tellcity.reports.history import ALREADY_FOLLOWED, MERGED_INTO
from tellcity.reports.lifecycle import transition
from tellcity.reports.models import Report, ReportEvent, Subscription, Support
from tellcity.reports.states import EventType, Status
from tellcity.reports.submission import DESCRIPTION_MAX
from tellcity.sla.calendar import BusinessCalendar
from tellcity.staff.models import ReplyTemplate

#: What a reply template may say, filled in for the ticket at hand.
TEMPLATE_PLACEHOLDERS = ("reference", "category", "address", "due_date", "department", "city")


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise NotAllowed(message)


def merge(target: Report, duplicates: list[Report], actor: Actor) -> ReportEvent:
    """Merge `duplicates` into `target`: each is closed as a duplicate of it with a public note
    pointing to it; their supporters, followers and reporters (as followers) are carried over,
    each counted once. Raises NotAllowed or Invalid (a report of another city, the target
    itself, a closed target)."""
    _require(can_handle(actor, target), _("only the department's staff can merge its tickets"))
    if not target.is_open:
        raise Invalid(_("merge into an open ticket"), field="target")
    for duplicate in duplicates:
        if duplicate.id == target.id or duplicate.city_id != target.city_id:
            raise Invalid(
                _("%(reference)s cannot be merged into this ticket", reference=duplicate.reference),
                field="references",
            )
        _carry_supporters(duplicate, target)
        _carry_followers(duplicate, target)
        # The note is a code, said in each reader's language when read (reports.history).
        note = {"message": MERGED_INTO, "reference": target.reference}
        transition(duplicate, Status.DUPLICATE, actor, note=note, duplicate_of=target)
    target.support_count = db.session.scalar(
        sa.select(sa.func.count()).select_from(Support).where(Support.report_id == target.id)
    )
    return record(
        target,
        actor,
        EventType.MERGE,
        is_public=True,
        data={"merged": [d.reference for d in duplicates]},  # said by reports.history
    )


def _carry_supporters(duplicate: Report, target: Report) -> None:
    existing = db.session.execute(
        sa.select(Support.user_id, Support.supporter_key).where(Support.report_id == target.id)
    ).all()
    users = {user_id for user_id, _key in existing if user_id}
    keys = {key for _user_id, key in existing if key}
    supports = db.session.scalars(sa.select(Support).where(Support.report_id == duplicate.id))
    for support in supports:
        if (support.user_id and support.user_id not in users) or (
            support.supporter_key and support.supporter_key not in keys
        ):
            db.session.add(
                Support(
                    report_id=target.id,
                    user_id=support.user_id,
                    supporter_key=support.supporter_key,
                )
            )
            users.add(support.user_id)
            keys.add(support.supporter_key)
    # The duplicate's reporter counts as a supporter of the original too.
    key = f"merged:{duplicate.id}"
    if key not in keys:
        db.session.add(Support(report_id=target.id, supporter_key=key))
    db.session.flush()


def _carry_followers(duplicate: Report, target: Report) -> None:
    """The duplicate's followers follow the original, each as confirmed as they were: an
    address that has not clicked its confirmation link yet gets nothing there either, and its
    link, moved to the original, confirms following the original. The duplicate's reporter,
    unless they stopped the emails, follows it confirmed. None of them is listed on the
    original reporter's page."""
    followers = db.session.scalars(
        sa.select(Subscription).where(Subscription.report_id == duplicate.id)
    ).all()
    for follower in followers:
        if follower.email and follower.is_confirmed:
            reports.follow(
                target, follower.email, confirmed=True, origin="merge", locale=follower.locale
            )
        elif follower.email and not _follows(target, follower.email):
            follower.report_id = target.id
    if duplicate.reporter_email and duplicate.notify_reporter:
        reports.follow(
            target,
            duplicate.reporter_email,
            confirmed=True,
            origin="merge",
            locale=duplicate.locale,
        )
    for follower in followers:
        if follower.user_id and not db.session.scalar(
            sa.select(Subscription.id).where(
                Subscription.report_id == target.id, Subscription.user_id == follower.user_id
            )
        ):
            db.session.add(
                Subscription(
                    report_id=target.id,
                    user_id=follower.user_id,
                    is_confirmed=follower.is_confirmed,
                    origin="merge",
                    token=secrets.token_urlsafe(24),
                )
            )
    db.session.flush()


def _follows(report: Report, email: str) -> bool:
    query = sa.select(Subscription.id).where(
        Subscription.report_id == report.id, Subscription.email == email
    )
    return db.session.scalar(query) is not None


def hide_report(report: Report, actor: Actor, reason: str, hidden: bool = True) -> ReportEvent:
    """Hide a report from the public (staff still see it), or show it again, with a reason."""
    _require(can_handle(actor, report), _("only the department's staff can moderate"))
    reason = _reason(reason)
    report.is_hidden = hidden
    return record(
        report, actor, EventType.MODERATION, text=reason, to_value="hidden" if hidden else "shown"
    )


def hide_event(event: ReportEvent, actor: Actor, reason: str, hidden: bool = True) -> ReportEvent:
    """Hide a public comment or reply from the public, with a reason."""
    report = event.report
    _require(can_handle(actor, report), _("only the department's staff can moderate"))
    if not event.is_public:
        raise Invalid(_("only public entries can be hidden"))
    event.is_hidden = hidden
    return record(
        report,
        actor,
        EventType.MODERATION,
        text=_reason(reason),
        from_value=str(event.id),
        to_value="hidden" if hidden else "shown",
    )


def edit_description(report: Report, text: str, actor: Actor, reason: str) -> ReportEvent:
    """Replace the public description (to remove personal data, say); the original is kept in
    an internal event that only managers and administrators are shown."""
    _require(can_handle(actor, report), _("only the department's staff can moderate"))
    text = (text or "").strip()
    if len(text) > DESCRIPTION_MAX:
        raise Invalid(
            _("the description is longer than %(count)s characters", count=DESCRIPTION_MAX),
            field="description",
        )
    original, report.description = report.description, text
    return record(
        report,
        actor,
        EventType.EDIT,
        text=_reason(reason),
        from_value="description",
        data={"original": original},
    )


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("give a reason"), field="reason")
    return reason[:500]


def templates_for(report: Report) -> list[ReplyTemplate]:
    """Active reply templates of the report's city that fit its department and category."""
    query = sa.select(ReplyTemplate).where(
        ReplyTemplate.city_id == report.city_id,
        ReplyTemplate.is_active,
        sa.or_(
            ReplyTemplate.department_id.is_(None),
            ReplyTemplate.department_id == report.department_id,
        ),
        sa.or_(
            ReplyTemplate.category_id.is_(None), ReplyTemplate.category_id == report.category_id
        ),
    )
    return db.session.scalars(query.order_by(ReplyTemplate.title)).all()


def fill_template(template: ReplyTemplate, report: Report) -> str:
    """The template's body with its placeholders filled in for `report`; unknown ones stay."""
    values = {
        "reference": report.reference,
        "category": report.category.name(report.locale),
        "address": report.address or "",
        "due_date": _due_date(report),
        "department": report.department.name,
        "city": report.city.name,
    }
    text = template.body
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


def _due_date(report: Report) -> str:
    with times_in(report.city.timezone):
        return date_local(report.due_at)


@dataclass
class BulkResult:
    done: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)


BULK_ACTIONS = ("assign", "acknowledge", "transfer", "duplicate")


def bulk(
    reports_: list[Report],
    action: str,
    actor: Actor,
    *,
    assignee: User | None = None,
    department: Department | None = None,
    original: Report | None = None,
    reason: str = "",
) -> BulkResult:
    """Apply one action to many tickets, each through its own service call (so each gets its
    own event); a ticket the action cannot apply to is listed with the reason, the others
    go ahead. Each ticket runs in a savepoint, so a refusal leaves nothing half-done."""
    if action not in BULK_ACTIONS:
        raise Invalid(_("unknown bulk action"), field="action")
    result = BulkResult()
    for report in reports_:
        try:
            with savepoint():
                _bulk_one(report, action, actor, assignee, department, original, reason)
        except TellCityError as error:
            result.refused[report.reference] = error.message
        else:
            result.done.append(report.reference)
    return result


def _bulk_one(report, action, actor, assignee, department, original, reason) -> None:
    if action == "assign":
        reports.assign(report, assignee, actor)
    elif action == "acknowledge":
        transition(report, Status.ACKNOWLEDGED, actor)
    elif action == "transfer":
        if department is None:
            raise Invalid(_("choose a department"), field="department")
        reports.transfer(report, department, actor, reason)
    elif original is None:
        raise Invalid(_("give the reference of the original report"), field="original")
    else:
        note = {"message": ALREADY_FOLLOWED, "reference": original.reference}
        transition(report, Status.DUPLICATE, actor, note=note, duplicate_of=original)


def can_see_original(actor: Actor, report: Report) -> bool:
    """Originals of edited descriptions are for managers and administrators."""
    return can_manage(actor, report)


def sla_hours_left(report: Report, now: datetime | None = None) -> float | None:
    """Business hours left before the due date (negative when overdue), for the SLA clock."""
    if report.due_at is None or not report.is_open:
        return None
    now = now or utcnow()
    calendar = BusinessCalendar.for_city(report.city)
    if now <= report.due_at:
        return calendar.business_hours_between(now, report.due_at)
    return -calendar.business_hours_between(report.due_at, now)
