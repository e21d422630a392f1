"""Writing reports: submission (routing, reference, SLA), and the ticket actions that are not
status changes — transfer, assignment, priority, public reply, internal note, correction — plus
the reporter's confirmation. Status changes go through `tellcity.reports.lifecycle.transition`.

Every function adds to the session and flushes; the caller commits once.
"""

import functools
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from tellcity.accounts.models import DEPARTMENT_ROLES, User
from tellcity.categories.models import Category
from tellcity.cities.models import City
from tellcity.core.db import utcnow, write_new
from tellcity.core.errors import Invalid, NotAllowed, TellCityError
from tellcity.core.permissions import (
    Actor,
    can_handle,
    can_manage,
    can_transfer,
    is_reporter_of,
)
from tellcity.core.transaction import savepoint
from tellcity.core.writer_queue import wait_to_write
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.geo.places import is_inside
from tellcity.notify import services as notify
from tellcity.photos.services import discard_files, store_photo
from tellcity.reports.lifecycle import is_open, within_reopen_window
from tellcity.reports.models import Report, ReportEvent, ReportSequence, Subscription, Support
from tellcity.reports.states import EventType, Kind, Priority, Source, Status
from tellcity.routing.services import Routing, route
from tellcity.sla.calendar import BusinessCalendar

DESCRIPTION_MAX = 4000
TEXT_MAX = 4000
#: Deliberately simple: one @, no spaces, a dot in the domain. The mail server has the last word.
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
#: A phone number: an optional +, then 6 to 20 digits with spaces, dots, dashes or brackets.
PHONE_PATTERN = re.compile(r"\+?[\d\s.\-()]{6,25}")
MAX_PHOTOS = 3
#: Photos a report can gather over its life (the reporter's, the staff's "after" photos).
MAX_REPORT_PHOTOS = 10


#: A plain query, built once: no ORM entity to set up for a yes/no on every submission.
_BY_IDEMPOTENCY_KEY = sa.select(Report.__table__.c.id).where(
    Report.__table__.c.idempotency_key == sa.bindparam("key")
)


@dataclass
class Submission:
    """What a resident (or a client on their behalf) sends."""

    category: Category
    lat: float
    lon: float
    description: str = ""
    address: str = ""
    attributes: dict | None = None
    reporter_name: str | None = None
    reporter_email: str | None = None
    reporter_phone: str | None = None
    reporter: User | None = None
    locale: str = "fr"
    source: str = Source.WEB
    idempotency_key: str | None = None
    #: Photos already checked and re-encoded by tellcity.photos.services.process_upload.
    photos: list = field(default_factory=list)


def submit_report(city: City, submission: Submission, actor: Actor, now: datetime | None = None):
    """Create a report: check it is inside the city and its category usable, route it, give it
    its reference and SLA deadlines, write its first event (with the routing decision) and
    queue the department's notification.

    Returns (report, created): a submission repeating a known idempotency key returns the
    report it made the first time with created False. Raises Invalid (outside the city,
    unusable category, text too long).
    """
    if submission.idempotency_key:
        existing = db.session.connection().scalar(
            _BY_IDEMPOTENCY_KEY, {"key": submission.idempotency_key}
        )
        if existing is not None:
            return db.session.get(Report, existing), False
    now = now or utcnow()
    _check_submission(city, submission)
    routing = route(city, submission.category, submission.lat, submission.lon)
    report = _new_report(city, submission, routing, now)
    # Numbered last, just before it is written: the number's upsert is the transaction's first
    # write, and from there to the commit SQLite's write lock is held and PostgreSQL locks the
    # city's sequence row.
    wait_to_write(db.session)
    report.reference = next_reference(city, now)
    # Three known rows, written at once rather than by a flush (see write_new).
    write_new(db.session, report)
    _store_photos(report, submission.photos)
    created = ReportEvent(
        report_id=report.id,  # not report=: that would add it to the report's pending changes
        type=EventType.CREATED,
        text=f"Routed to {routing.department.name} ({routing.reason})",
        data={"routing": routing.data},
        created_at=now,
        **actor.event_fields,
    )
    write_new(db.session, created, keep=False)  # read again only through report.events
    notify.notify_new_report(report, is_new=True)
    return report, True


def _store_photos(report: Report, photos: list, event: ReportEvent | None = None) -> None:
    """Store the photos; if one cannot be written, remove those already written."""
    stored = []
    try:
        for photo in photos:
            stored.append(store_photo(report, photo, event))
    except TellCityError:
        for photo in stored:
            discard_files(photo)
        raise


def _check_submission(city: City, submission: Submission) -> None:
    """Raise Invalid, naming the field, for the first thing wrong with the submission."""
    category = submission.category
    if category.city_id != city.id or not category.is_active:
        raise Invalid(
            _("this category is not available here"), code="unknown_category", field="category"
        )
    _check_content(submission)
    _check_contact(submission)
    _check_position(city, submission)


def _check_content(submission: Submission) -> None:
    if len(submission.photos) > MAX_PHOTOS:
        raise Invalid(
            _("at most %(count)s photos", count=MAX_PHOTOS), code="too_many_photos", field="photos"
        )
    description = (submission.description or "").strip()
    if submission.category.kind == Kind.PROBLEM and not description and not submission.photos:
        raise Invalid(_("describe the problem or add a photo"), code="empty", field="description")
    if submission.category.kind == Kind.SUGGESTION and not description:
        raise Invalid(_("describe your idea"), code="empty", field="description")
    if len(description) > DESCRIPTION_MAX:
        raise Invalid(
            _("the description is longer than %(count)s characters", count=DESCRIPTION_MAX),
            code="too_long",
            field="description",
        )


def _check_position(city: City, submission: Submission) -> None:
    lat, lon = submission.lat, submission.lon
    if lat is None or lon is None:
        if submission.category.kind == Kind.PROBLEM:
            raise Invalid(_("say where the problem is"), code="no_position", field="position")
        return
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise Invalid(_("this position is not on Earth"), code="invalid_position", field="position")
    if not is_inside(city, lat, lon):
        raise Invalid(
            _(
                "this place is outside %(city)s: we can only pass on reports made inside the"
                " city limits",
                city=city.name,
            ),
            code="outside_city",
            field="position",
        )


def _check_contact(submission: Submission) -> None:
    email, phone = submission.reporter_email, submission.reporter_phone
    if email and not EMAIL_PATTERN.fullmatch(email.strip()):
        raise Invalid(_("this email address is not valid"), code="invalid_email", field="email")
    if phone and not PHONE_PATTERN.fullmatch(phone.strip()):
        raise Invalid(_("this phone number is not valid"), code="invalid_phone", field="phone")
    for value, limit, name in (
        (submission.reporter_name, 120, "name"),
        (email, 254, "email"),
        (submission.address, 300, "address"),
    ):
        if value and len(value) > limit:
            raise Invalid(
                _("%(field)s: at most %(count)s characters", field=name, count=limit),
                code="too_long",
                field=name,
            )


def _new_report(city: City, submission: Submission, routing: Routing, now: datetime) -> Report:
    category = submission.category
    at_risk_at = due_at = None
    if category.sla_hours:
        calendar = BusinessCalendar.for_city(city)
        at_risk_at, due_at = calendar.sla_deadlines(now, category.sla_hours)
    return Report(
        city=city,  # not city_id: the notification reads the city before the report is written
        kind=category.kind,
        category=category,
        status=Status.NEW,
        priority=category.default_priority,
        department=routing.department,
        zone=routing.zone,
        lat=submission.lat,
        lon=submission.lon,
        address=(submission.address or "")[:300],
        description=(submission.description or "").strip(),
        attributes=submission.attributes or None,
        at_risk_at=at_risk_at,
        due_at=due_at,
        source=submission.source,
        idempotency_key=submission.idempotency_key,
        reporter_id=submission.reporter.id if submission.reporter else None,
        reporter_name=submission.reporter_name or None,
        reporter_email=(submission.reporter_email or "").strip().lower() or None,
        reporter_phone=submission.reporter_phone or None,
        locale=submission.locale,
        created_at=now,
        updated_at=now,
        photos=[],  # known to be none yet: counting them (notify) needs no query
    )


def next_reference(city: City, now: datetime) -> str:
    """The next public reference of `city` for the year of `now` in the city's time zone,
    e.g. ISS-2026-000124. One atomic upsert, safe with concurrent submissions."""
    year = now.astimezone(ZoneInfo(city.timezone)).year
    connection = db.session.connection()
    statement = _sequence_upsert(connection.dialect.name)
    number = connection.execute(statement, {"city_id": city.id, "year": year}).scalar_one()
    return f"{city.reference_prefix}-{year}-{number:06d}"


@functools.cache
def _sequence_upsert(dialect_name: str) -> sa.Insert:
    """The upsert of next_reference, built once per dialect (it runs on every submission)."""
    table = ReportSequence.__table__
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return (
        dialect.insert(table)
        .values(city_id=sa.bindparam("city_id"), year=sa.bindparam("year"), last_number=1)
        .on_conflict_do_update(
            index_elements=["city_id", "year"], set_={"last_number": table.c.last_number + 1}
        )
        .returning(table.c.last_number)
    )


def _record(report: Report, actor: Actor, type_: str, **fields) -> ReportEvent:
    """Write an event of the report's history (flushed: its id is known)."""
    event = _event(report, actor, type_, **fields)
    db.session.add(event)
    db.session.flush()
    return event


def _event(
    report: Report,
    actor: Actor,
    type_: str,
    *,
    text: str = "",
    is_public=False,
    from_value=None,
    to_value=None,
    data=None,
    now=None,
) -> ReportEvent:
    return ReportEvent(
        report=report,
        type=type_,
        text=text,
        is_public=is_public,
        from_value=None if from_value is None else str(from_value),
        to_value=None if to_value is None else str(to_value),
        data=data,
        created_at=now or utcnow(),
        **actor.event_fields,
    )


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
    old = report.department
    report.department = department
    report.assignee_id = None
    event = _record(
        report,
        actor,
        EventType.TRANSFER,
        text=reason,
        from_value=old.slug,
        to_value=department.slug,
    )
    notify.notify_transfer(report, event)
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
    return _record(
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
    return _record(report, actor, EventType.PRIORITY_CHANGE, from_value=old, to_value=priority)


def reply(report: Report, text: str, actor: Actor) -> ReportEvent:
    """A public answer on the report's timeline; the reporter and followers hear of it."""
    _require(can_handle(actor, report), _("only the department's staff can reply"))
    event = _record(
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
    return _record(report, actor, EventType.INTERNAL_NOTE, text=_required_text(text, _("a note")))


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
    return _record(report, actor, EventType.CONFIRMATION, is_public=True, now=now)


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
            _record(
                report,
                actor,
                EventType.EDIT,
                text="category",
                from_value=report.category.code,
                to_value=category.code,
            )
        )
        report.category = category
    if lat is not None and lon is not None and (lat, lon) != (report.lat, report.lon):
        if not is_inside(report.city, lat, lon):
            raise Invalid(
                _("this place is outside the city"), code="outside_city", field="position"
            )
        events.append(
            _record(
                report,
                actor,
                EventType.EDIT,
                text="position",
                from_value=f"{report.lat},{report.lon}",
                to_value=f"{lat},{lon}",
            )
        )
        report.lat, report.lon = lat, lon
    if reroute and is_open(report.status):
        events.extend(_reroute(report, actor))
    return events


def _reroute(report: Report, actor: Actor) -> list[ReportEvent]:
    routing = route(report.city, report.category, report.lat, report.lon)
    report.zone = routing.zone
    if routing.department.id == report.department_id:
        return []
    old = report.department
    report.department = routing.department
    report.assignee_id = None
    event = _record(
        report,
        actor,
        EventType.TRANSFER,
        text=f"Rerouted ({routing.reason})",
        from_value=old.slug,
        to_value=routing.department.slug,
        data={"routing": routing.data},
    )
    notify.notify_transfer(report, event)
    return [event]


def add_support(
    report: Report, *, user: User | None = None, supporter_key: str | None = None
) -> bool:
    """Count a "me too" (or a vote for an idea) once per person: a signed-in user, or an
    anonymous supporter known by `supporter_key`. Returns False when that person had already
    supported it. Raises Invalid when the report is closed."""
    if not is_open(report.status):
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
    db.session.refresh(report, ["support_count"])
    return True


def add_comment(report: Report, text: str, actor: Actor) -> ReportEvent:
    """A resident's comment on their report, shown on its public page (moderators can hide
    it). Only the reporter (through their private link) comments here."""
    _require(is_reporter_of(actor, report), _("only the reporter can comment here"))
    return _record(
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
    event = _record(report, actor, EventType.PHOTO_ADDED, is_public=True, to_value=str(len(photos)))
    _store_photos(report, photos, event)
    return event


def follow(report: Report, email: str, *, confirmed: bool) -> Subscription:
    """Follow `report` by email (idempotent). From the reporter's private page the address is
    taken as confirmed."""
    email = (email or "").strip().lower()
    if not EMAIL_PATTERN.fullmatch(email):
        raise Invalid(_("enter a valid email address"), code="invalid_email", field="email")
    existing = db.session.scalar(
        sa.select(Subscription).where(
            Subscription.report_id == report.id, Subscription.email == email
        )
    )
    if existing is not None:
        return existing
    subscription = Subscription(
        report_id=report.id, email=email, is_confirmed=confirmed, token=secrets.token_urlsafe(24)
    )
    db.session.add(subscription)
    db.session.flush()
    return subscription


def unfollow(report: Report, email: str) -> bool:
    email = (email or "").strip().lower()
    result = db.session.execute(
        sa.delete(Subscription).where(
            Subscription.report_id == report.id, Subscription.email == email
        )
    )
    return result.rowcount > 0
