"""Writing reports: the ticket actions that are not
status changes — transfer, assignment, priority, public reply, internal note, correction — plus
the reporter's confirmation. Status changes go through `tellcity.reports.lifecycle.transition`;
filing a report, through `tellcity.reports.submission`.

Every function adds to the session and flushes; the caller commits once.
"""

import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from tellcity.accounts.models import DEPARTMENT_ROLES, User
from tellcity.categories.models import Category
from tellcity.core.db import utcnow
from tellcity.core.errors import Invalid, NotAllowed
from tellcity.core.permissions import (
    Actor,
    can_handle,
    can_manage,
    can_transfer,
    is_reporter_of,
)
from tellcity.core.transaction import savepoint
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.notify import services as notify
from tellcity.photos.services import store_photos
from tellcity.reports import versions
from tellcity.reports.events import record
from tellcity.reports.lifecycle import within_reopen_window
from tellcity.reports.models import Report, ReportEvent, Subscription, Support
from tellcity.reports.states import EventType, Priority, Status
from tellcity.reports.submission import EMAIL_PATTERN, check_inside
from tellcity.routing.services import route

TEXT_MAX = 4000
#: Photos a report can gather over its life (the reporter's, the staff's "after" photos).
MAX_REPORT_PHOTOS = 10


def _required_text(text: str, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise Invalid(_("%(what)s cannot be empty", what=what), field="text")
    if len(text) > TEXT_MAX:
        raise Invalid(
            _("%(what)s: at most %(count)s characters", what=what, count=TEXT_MAX),
            code="too_long",
            field="text",
        )
    return text


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise NotAllowed(message)


def transfer(report: Report, department: Department, actor: Actor, reason: str) -> ReportEvent:
    """Send the ticket to another department of the city, with a reason. Status, deadlines and
    history stay as they are; the assignee (of the old department) is cleared; the new
    department is told."""
    _require(can_transfer(actor, report), _("only managers and the triage desk can transfer"))
    reason = _required_text(reason, _("the reason for a transfer"))
    if department.city_id != report.city_id or department.is_external:
        raise Invalid(
            _("a ticket can only go to one of the city's own departments"), field="department"
        )
    if department.id == report.department_id:
        raise Invalid(_("the ticket is already with this department"), field="department")
    return _move_to(report, department, actor, reason)


def _move_to(
    report: Report, department: Department, actor: Actor, why: str, data: dict | None = None
) -> ReportEvent:
    """The one way a ticket changes department, for a transfer and a rerouting alike: the
    assignee (of the old department) is cleared, a transfer event says why, the new
    department is told, and the reporter and followers hear which department has it."""
    old = report.department
    report.department = department
    report.assignee_id = None
    event = record(
        report,
        actor,
        EventType.TRANSFER,
        text=why,
        from_value=old.slug,
        to_value=department.slug,
        data=data,
    )
    notify.notify_transfer(report, event)
    notify.notify_status_change(report, event)  # residents hear where it went, not why
    return event


def assign(report: Report, assignee: User | None, actor: Actor) -> ReportEvent:
    """Give the ticket to a member of its department (None: to nobody). Agents may take a
    ticket themselves; managers and admins assign anyone of the department."""
    _require(can_handle(actor, report), _("only the department's staff can assign its tickets"))
    taking_it = assignee is not None and actor.user is not None and assignee.id == actor.user.id
    _require(taking_it or can_manage(actor, report), _("only managers assign tickets to others"))
    if assignee is not None and (
        assignee.role not in DEPARTMENT_ROLES or assignee.department_id != report.department_id
    ):
        raise Invalid(_("a ticket goes to a member of its department"), field="assignee")
    old = report.assignee_id
    report.assignee_id = assignee.id if assignee else None
    return record(
        report,
        actor,
        EventType.ASSIGNMENT,
        from_value=old,
        to_value=assignee.id if assignee else None,
    )


def set_priority(report: Report, priority: int, actor: Actor) -> ReportEvent:
    _require(can_handle(actor, report), _("only the department's staff can set priorities"))
    if priority not in Priority.NAMES:
        raise Invalid(_("priority is 1 (urgent) to 4 (low)"), field="priority")
    old, report.priority = report.priority, priority
    return record(report, actor, EventType.PRIORITY_CHANGE, from_value=old, to_value=priority)


def reply(report: Report, text: str, actor: Actor) -> ReportEvent:
    """A public answer on the report's timeline; the reporter and followers hear of it."""
    _require(can_handle(actor, report), _("only the department's staff can reply"))
    event = record(
        report,
        actor,
        EventType.PUBLIC_REPLY,
        is_public=True,
        text=_required_text(text, _("a reply")),
    )
    notify.notify_status_change(report, event)
    return event


def add_note(report: Report, text: str, actor: Actor) -> ReportEvent:
    """An internal note: staff only, never public, nobody notified."""
    _require(can_handle(actor, report), _("only the department's staff can add notes"))
    return record(report, actor, EventType.INTERNAL_NOTE, text=_required_text(text, _("a note")))


def confirm_fix(report: Report, actor: Actor, now: datetime | None = None) -> ReportEvent:
    """The reporter says the fix holds. Raises NotAllowed unless the report is resolved, the
    actor is its reporter, and it was resolved less than 30 days ago."""
    now = now or utcnow()
    _require(is_reporter_of(actor, report), _("only the reporter can confirm a fix"))
    _require(report.status == Status.RESOLVED, _("only a resolved report can be confirmed"))
    _require(
        within_reopen_window(report, now),
        _("a fix can be confirmed within 30 days of its resolution"),
    )
    if report.confirmed_at is not None:
        return next(e for e in reversed(report.events) if e.type == EventType.CONFIRMATION)
    report.confirmed_at = now
    return record(report, actor, EventType.CONFIRMATION, is_public=True, now=now)


def correct(
    report: Report,
    actor: Actor,
    *,
    category: Category | None = None,
    lat: float | None = None,
    lon: float | None = None,
    reroute: bool = False,
):
    """Staff correct the category or the position; with `reroute`, routing runs again and the
    ticket is transferred if another department should have it. Returns the events written."""
    _require(can_handle(actor, report), _("only the department's staff can correct a report"))
    events = []
    if category is not None and category.id != report.category_id:
        if category.city_id != report.city_id or category.kind != report.kind:
            raise Invalid(_("choose a category of the same city and kind"), field="category")
        events.append(
            record(
                report,
                actor,
                EventType.EDIT,
                data={"field": "category"},
                from_value=report.category.code,
                to_value=category.code,
            )
        )
        report.category = category
    if lat is not None and lon is not None and (lat, lon) != (report.lat, report.lon):
        check_inside(report.city, lat, lon)
        events.append(
            record(
                report,
                actor,
                EventType.EDIT,
                data={"field": "position"},
                from_value=f"{report.lat},{report.lon}",
                to_value=f"{lat},{lon}",
            )
        )
        report.lat, report.lon = lat, lon
    if reroute and report.is_open:
        events.extend(_reroute(report, actor))
    return events


def _reroute(report: Report, actor: Actor) -> list[ReportEvent]:
    """Route the corrected report again: a transfer when another department should have it."""
    routing = route(report.city, report.category, report.lat, report.lon)
    report.zone = routing.zone
    if routing.department.id == report.department_id:
        return []
    # No text: the routing decision is the why, said in the reader's language (reports.history).
    return [_move_to(report, routing.department, actor, "", data={"routing": routing.data})]


def add_support(
    report: Report, *, user: User | None = None, supporter_key: str | None = None
) -> bool:
    """Count a "me too" (or a vote for an idea) once per person: a signed-in user, or an
    anonymous supporter known by `supporter_key`. Returns False when that person had already
    supported it. Raises Invalid when the report is closed."""
    if not report.is_open:
        raise Invalid(_("this report is closed: it no longer takes support"), code="closed")
    if user is None and not supporter_key:
        raise Invalid(_("a supporter is needed"))
    owner = Support.user_id == user.id if user else Support.supporter_key == supporter_key
    if db.session.scalar(sa.select(Support.id).where(Support.report_id == report.id, owner)):
        return False
    try:
        with savepoint():
            db.session.add(
                Support(
                    report_id=report.id,
                    user_id=user.id if user else None,
                    supporter_key=None if user else supporter_key,
                )
            )
    except IntegrityError:  # the same person, twice at once
        return False
    db.session.execute(
        sa.update(Report)
        .where(Report.id == report.id)
        .values(support_count=Report.support_count + 1)
    )
    versions.bump(db.session, report.city_id)
    db.session.refresh(report, ["support_count"])
    return True


def add_comment(report: Report, text: str, actor: Actor) -> ReportEvent:
    """A resident's comment on their report, shown on its public page (moderators can hide
    it). Only the reporter (through their private link) comments here."""
    _require(is_reporter_of(actor, report), _("only the reporter can comment here"))
    return record(
        report, actor, EventType.COMMENT, is_public=True, text=_required_text(text, _("a comment"))
    )


def add_photos(report: Report, photos: list, actor: Actor) -> ReportEvent:
    """Photos added after the submission, by the reporter or the department's staff, with
    a public event. Raises NotAllowed for anybody else and Invalid past the limit."""
    _require(
        is_reporter_of(actor, report) or can_handle(actor, report),
        _("only the reporter or staff add photos"),
    )
    if not photos:
        raise Invalid(_("choose a photo"), field="photos")
    if len(report.photos) + len(photos) > MAX_REPORT_PHOTOS:
        raise Invalid(
            _("a report has at most %(count)s photos", count=MAX_REPORT_PHOTOS),
            code="too_many_photos",
            field="photos",
        )
    event = record(report, actor, EventType.PHOTO_ADDED, is_public=True, to_value=str(len(photos)))
    store_photos(report, photos, event)
    return event


def follow(
    report: Report,
    email: str,
    *,
    confirmed: bool,
    origin: str = "reporter",
    locale: str | None = None,
) -> Subscription:
    """Follow `report` by email, once per address (idempotent). `confirmed`: the address is
    known to reach the person asking (the reporter's private page, followers carried over by a
    merge): it is followed at once, and an existing unconfirmed subscription becomes confirmed.
    Otherwise see `ask_to_follow`. `origin` says where the address was given (only the
    reporter's own are listed on their page; see Subscription.origin), `locale` the language
    of its emails. Raises Invalid for something that is not an address."""
    email = (email or "").strip().lower()
    if not EMAIL_PATTERN.fullmatch(email):
        raise Invalid(_("enter a valid email address"), code="invalid_email", field="email")
    subscription = _subscription_of(report, email)
    if subscription is None:
        subscription = Subscription(
            report_id=report.id,
            email=email,
            is_confirmed=confirmed,
            origin=origin,
            locale=locale,
            token=secrets.token_urlsafe(24),
        )
        try:
            with savepoint():
                db.session.add(subscription)
        except IntegrityError:  # the same address, twice at once
            subscription = _subscription_of(report, email)
    subscription.is_confirmed = subscription.is_confirmed or confirmed
    if origin == "reporter":  # the reporter typed it: it may show on their page
        subscription.origin = origin
    subscription.locale = locale or subscription.locale
    db.session.flush()
    return subscription


def _subscription_of(report: Report, email: str) -> Subscription | None:
    return db.session.scalar(
        sa.select(Subscription).where(
            Subscription.report_id == report.id, Subscription.email == email
        )
    )


def ask_to_follow(
    report: Report, email: str, *, locale: str, now: datetime | None = None
) -> Subscription:
    """Follow `report` from a public page, with double opt-in: the address is followed once
    its owner clicks the link of a confirmation email (in `locale`), and gets nothing else
    before. Asking again sends no second subscription and at most one confirmation email every
    few hours (see notify_follow_confirmation); an address that already follows gets none.
    Raises Invalid for something that is not an address, or a closed report."""
    if not report.is_open:
        raise Invalid(_("this report is closed: there is nothing more to follow"), code="closed")
    subscription = follow(report, email, confirmed=False, origin="public", locale=locale)
    if not subscription.is_confirmed:
        notify.notify_follow_confirmation(report, subscription, locale, now=now)
    return subscription


def confirm_following(subscription: Subscription) -> None:
    """The owner of the address clicked the confirmation link: emails start. Confirming twice
    changes nothing."""
    subscription.is_confirmed = True
    db.session.flush()


def unfollow(report: Report, email: str) -> bool:
    """Stop an address the reporter gave on their page (and only such an address: who
    follows from a public page stops from the link of their emails)."""
    email = (email or "").strip().lower()
    result = db.session.execute(
        sa.delete(Subscription).where(
            Subscription.report_id == report.id,
            Subscription.email == email,
            Subscription.origin == "reporter",
        )
    )
    return result.rowcount > 0
