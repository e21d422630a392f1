"""Queuing notifications, and the few other writes of the notify feature.

Each `notify_*` function writes its OutboxMessages at once, in the caller's transaction; the
caller commits, so a message is written in the same transaction as the change that caused it (a
rolled-back change leaves no message behind) and the worker (`tellcity.notify.worker`) delivers
it afterwards. They return the messages they queued.

Every message has a `dedupe_key` naming the notification (its event, its recipient): queuing the
same notification again queues nothing, so a retried request or command cannot send it twice.
The unique column is the last line of defence: two transactions racing to queue the same key
cannot both commit.

An email is queued as its template's name, its language and the facts it tells (in `payload`),
gathered when it is queued; the worker renders it just before sending and keeps the text in
the message (compose_email). Rendering two templates cost a submission more than writing the
message.

Who reads what: the city's own departments get the reporter's contact; outside bodies (a
referral) and followers never do, and every person gets an email of their own (no CC lists).
"""

import functools
import hashlib
import uuid
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from jinja2 import TemplateNotFound

from tellcity.accounts.models import User
from tellcity.admin.access import CLI
from tellcity.audit.services import record, snapshot
from tellcity.categories.questions import labelled
from tellcity.core.db import utcnow, write_new
from tellcity.core.errors import Conflict, TellCityError
from tellcity.core.i18n import datetime_local, times_in
from tellcity.core.permissions import Actor
from tellcity.core.text import contact_region, mask_contacts, public_text
from tellcity.departments.escalation import Contact
from tellcity.departments.models import Delivery, Department
from tellcity.extensions import db
from tellcity.notify.models import Channel, OutboxMessage, OutboxStatus
from tellcity.notify.queries import Follower, report_followers
from tellcity.open311.client import services as open311_client
from tellcity.reports import history
from tellcity.reports.links import reporter_action_url, reporter_unsubscribe_url, tracking_url
from tellcity.reports.models import Report, ReportEvent, Subscription
from tellcity.reports.states import STATUS_LABELS, EventType, Priority, Status

LOCALES = ("fr", "en")
#: Of each email, the subject line comes from the `subject` variable its text template sets.
EMAIL_TEMPLATES = "emails/{name}.{locale}.{ext}"

#: The `event` field of each webhook call, by notification.
WEBHOOK_EVENTS = {
    "new_report": "report.created",
    "transfer": "report.transferred",
    "referral": "report.referred",
    "reopen": "report.reopened",
}

PRIORITY_LABELS = {
    "fr": {
        Priority.URGENT: "urgente",
        Priority.HIGH: "haute",
        Priority.NORMAL: "normale",
        Priority.LOW: "basse",
    },
    "en": Priority.NAMES,
}
DATE_FORMATS = {"fr": "dd/MM/y HH:mm", "en": "y-MM-dd HH:mm"}


class MessageNotFound(TellCityError):
    """No outbox message has this id."""

    status = 404
    code = "not_found"


#: The steps of a report a resident is told of (besides its public status changes, named by
#: their new status, and the staff's public replies), by event type.
RESIDENT_EVENTS = {EventType.REOPEN: "reopened", EventType.TRANSFER: "transferred"}


# The notifications the report lifecycle queues


def notify_new_report(report: Report, *, is_new: bool = False) -> list[OutboxMessage]:
    """Tell the report's department of a new report, by its delivery method (nothing for a
    dashboard-only department). `is_new`: the report is being created in this transaction,
    so no message can name it yet and the dedupe lookup is skipped (one query less for every
    submission; the unique key still stands guard)."""
    department = report.department
    return _notify_department(
        department,
        report,
        "new_report",
        key=f"new_report:{report.id}",
        contact=_department_contact(department, report),
        look_up=not is_new,
    )


def notify_acknowledgement(report: Report, *, is_new: bool = False) -> list[OutboxMessage]:
    """Email the reporter, when they gave an address, that their report or idea is filed: its
    reference, what was understood (category, place, answers, photo count), the department,
    the expected date and their private tracking link, with a link to stop the emails.
    `is_new` as for notify_new_report."""
    address = _reporter_contact(report)["email"]
    if not address or report.notify_reporter is False:  # None: not written yet, so the default
        return []
    locale = _locale(report.locale)
    context = {
        **_understood(report, locale),
        "department": report.department.name,
        "due_at": _local_time(report, report.due_at, locale),
        "tracking_url": tracking_url(report, external=True),
    }
    key = f"acknowledgement:{report.id}"
    message = _email_to_reporter(
        key, address, "acknowledgement", locale, context, report, look_up=not is_new
    )
    return [message] if message is not None else []


def notify_transfer(report: Report, event: ReportEvent) -> list[OutboxMessage]:
    """Tell the department the report was just transferred to (`report.department`) that it
    now has it, and why: the staff's words (`event.text`), else, for a rerouting, the routing
    decision in the city's language."""
    department = report.department
    if event.text:
        why = event.text
    else:
        with force_locale(_locale(report.city.locale)):
            why = history.describe(event)
    return _notify_department(
        department,
        report,
        "transfer",
        key=f"transfer:{event.id}",
        reason=why,
        contact=_department_contact(department, report),
    )


def notify_referral(report: Report, event: ReportEvent) -> list[OutboxMessage]:
    """Send the report to the outside body it was referred to (`report.referred_to`), with
    the reason, and without the reporter's contact: that body is a third party."""
    if report.referred_to is None:
        return []
    return _notify_department(
        report.referred_to, report, "referral", key=f"referral:{event.id}", reason=event.text
    )


def notify_reopen(report: Report, event: ReportEvent) -> list[OutboxMessage]:
    """Tell the department the resident reopened the report, with their comment."""
    department = report.department
    return _notify_department(
        department,
        report,
        "reopen",
        key=f"reopen:{event.id}",
        reason=event.text,
        contact=_department_contact(department, report),
    )


def notify_status_change(
    report: Report, event: ReportEvent, *, by_reporter: bool = False
) -> list[OutboxMessage]:
    """Email the reporter and each follower about a step of the report they care about
    (`_step`: a public status change, with or without a text; a reopening; a transfer to
    another department; a public reply): one email per address, never the same event twice
    to an address, followers' without any of the reporter's data. Each email has a link to stop
    them. When the report is resolved, the reporter's email carries the links to confirm the
    fix or reopen the report. `by_reporter`: the reporter made the step themselves (a
    reopening), so only the followers hear of it, without the reporter's comment."""
    if _step(event) is None:
        return []
    queued = []
    reporter = _reporter_contact(report)["email"]
    # A reporter who turned their emails off gets none, not even as a follower.
    seen = {reporter.lower()} if reporter else set()
    if reporter and report.notify_reporter and not by_reporter:
        queued.append(_email_reporter(report, event, reporter))
    for follower in report_followers(report):
        if follower.email.lower() not in seen:
            seen.add(follower.email.lower())
            queued.append(_email_follower(report, event, follower, by_reporter))
    return [message for message in queued if message is not None]


def notify_escalation(report: Report, contacts: list[Contact]) -> list[OutboxMessage]:
    """Email each of the department's escalation contacts (tellcity.departments.escalation)
    that the ticket is overdue. Queued once per deadline and address: a ticket given a new
    due date can escalate again."""
    deadline = int(report.due_at.timestamp()) if report.due_at else "none"
    queued = []
    for contact in contacts:
        locale = _locale(contact.locale or report.city.locale)
        context = {**_ticket_facts(report, locale), "manager_name": contact.name}
        key = f"escalation:{report.id}:{deadline}:{_digest(contact.email)}"
        queued.append(_queue_email(key, contact.email, "escalation", locale, context, report))
    return [message for message in queued if message is not None]


def notify_follow_confirmation(
    report: Report,
    subscription: Subscription,
    locale: str,
    now: datetime | None = None,
    every_hours: int = 6,
) -> list[OutboxMessage]:
    """Ask the address given on a public page to confirm it follows `report`: the only email it
    gets before it does. One per subscription in each `every_hours` window of the clock,
    however often the form is sent (a stranger typing someone's address cannot flood them)."""
    locale = _locale(locale)
    window = int((now or utcnow()).timestamp()) // (every_hours * 3600)
    context = {
        "reference": report.reference,
        "category": report.category.name(locale),
        "address": public_text(report).address,  # anyone may ask: the public page's text
        "is_idea": report.kind == "suggestion",
        "public_url": absolute_url(f"/reports/{report.reference}"),
        "confirm_url": absolute_url(f"/subscriptions/{subscription.token}/confirm"),
    }
    key = f"follow_confirm:{subscription.id}:{window}"
    message = _queue_email(key, subscription.email, "follow_confirm", locale, context, report)
    return [message] if message is not None else []


# Staff actions on the outbox, and followers


def retry_dead(message_id: int, now: datetime | None = None) -> OutboxMessage:
    """`retry_message` for the command line: the dead message `message_id`, by the operator.

    Raises MessageNotFound for an unknown id and Conflict when the message is not dead.
    """
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise MessageNotFound(f"no outbox message {message_id}")
    if message.status != OutboxStatus.DEAD:  # the command line speaks English
        raise Conflict(f"outbox message {message_id} is {message.status}, not dead")
    return retry_message(message, actor=CLI, now=now)


def retry_message(
    message: OutboxMessage, *, actor: Actor, now: datetime | None = None
) -> OutboxMessage:
    """Put a dead message back in the queue, due now, with a fresh set of attempts (its last
    error is kept until the next attempt), and record who did. Flushes; the caller commits.

    Raises Conflict when the message is not dead (sent, dropped, or retried already).
    """
    _require_status(message, OutboxStatus.DEAD)
    before = snapshot(message)
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = now or utcnow()
    message.locked_until = None
    _audit(actor, "retry", message, before)
    return message


def drop_message(message: OutboxMessage, *, actor: Actor) -> OutboxMessage:
    """Make sure a pending or dead message is never sent: it stays in the outbox, dropped, for
    the record, and who dropped it is recorded. Flushes; the caller commits.

    Raises Conflict when the message is being sent right now, sent, or dropped already.
    """
    droppable = (OutboxStatus.PENDING, OutboxStatus.DEAD)
    _require_status(message, *droppable)
    before = snapshot(message)
    # One conditional UPDATE: a worker claiming the message meanwhile (pending to sending)
    # either comes first, and the drop is refused, or finds it dropped and leaves it.
    dropped = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.status.in_(droppable))
        .values(status=OutboxStatus.DROPPED, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(message)
    if dropped.rowcount != 1:
        _require_status(message, *droppable)
    _audit(actor, "drop", message, before)
    return message


def _require_status(message: OutboxMessage, *statuses: OutboxStatus) -> None:
    status = message.status
    if status in statuses:
        return
    if statuses == (OutboxStatus.DEAD,):
        raise Conflict(
            _("This message is %(status)s, not dead: it was left as it is.", status=status)
        )
    raise Conflict(
        _(
            "This message is %(status)s: only a waiting or dead message can be dropped.",
            status=status,
        )
    )


#: What the audit log keeps of a message: its state, not its text or payload (a reporter's
#: contact, a resident's address), which the outbox itself keeps.
AUDITED_FIELDS = ("status", "attempts", "next_attempt_at", "channel", "report_id")


def _audit(actor: Actor, action: str, message: OutboxMessage, before: dict) -> None:
    report = db.session.get(Report, message.report_id) if message.report_id else None
    city_id = report.city_id if report is not None else None
    entry = record(actor, action, message, before, city_id=city_id)
    entry.before = {field: before[field] for field in AUDITED_FIELDS}
    entry.after = {field: entry.after[field] for field in AUDITED_FIELDS}


def unsubscribe(subscription: Subscription) -> None:
    """Stop a follower's emails: delete their subscription. Flushes; the caller commits."""
    db.session.delete(subscription)
    db.session.flush()


def stop_reporter_emails(report: Report) -> None:
    """Stop the reporter's emails about `report` (from the link at the bottom of each). Their
    tracking page can turn them on again. Flushes; the caller commits."""
    report.notify_reporter = False
    db.session.flush()


# Rendering


def render_email(name: str, locale: str, context: dict) -> tuple[str, str, str | None]:
    """(subject, text, html) of the email template `name` in `locale`. The text template is
    required and sets `subject`; the HTML one is optional (and autoescaped, being .html). The
    words the templates take from the app (a closing reason's label) are in `locale` too."""
    env = current_app.jinja_env
    with force_locale(locale):
        text = env.get_template(_template(name, locale, "txt")).make_module(context)
        subject = " ".join(str(getattr(text, "subject", "")).split())
        try:
            html_template = env.get_template(_template(name, locale, "html"))
        except TemplateNotFound:
            return subject, _tidy(str(text)), None
        html = html_template.render({**context, "subject": subject})
    return subject, _tidy(str(text)), _tidy(html)


def _template(name: str, locale: str, ext: str) -> str:
    return EMAIL_TEMPLATES.format(name=name, locale=locale, ext=ext)


def _tidy(text: str) -> str:
    return text.strip() + "\n"


# Queuing


def _is_queued(key: str) -> bool:
    found = db.session.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key))
    return found is not None


def _write(message: OutboxMessage) -> OutboxMessage:
    write_new(db.session, message)
    return message


def _queue_email(
    key: str,
    recipient: str,
    template: str,
    locale: str,
    context: dict,
    report: Report,
    headers: dict | None = None,
    look_up: bool = True,
) -> OutboxMessage | None:
    """Queue one email, unless `key` is queued already. What it says is fixed now: the
    template's name, the language and the facts (`context`) are kept in the payload, and the
    sender renders them (see compose_email), so that a submission does not wait for it.
    `headers` are extra email headers (List-Unsubscribe), kept in the payload too."""
    if look_up and _is_queued(key):
        return None
    email = {"template": template, "locale": locale, "context": context}
    payload = {"email": email, "headers": headers} if headers else {"email": email}
    message = OutboxMessage(
        dedupe_key=key,
        channel=Channel.EMAIL,
        recipient=recipient,
        payload=payload,
        report_id=report.id,
    )
    return _write(message)


def compose_email(message: OutboxMessage) -> tuple[str, str, str | None]:
    """(subject, text, html) of a queued email: rendered from the template, language and facts
    it was queued with, and written into the message, which then keeps what was sent. (A
    message queued with its text already written is read as it is.)"""
    email = (message.payload or {}).get("email")
    if email is not None and not message.body:
        report = db.session.get(Report, message.report_id) if message.report_id else None
        with times_in(report.city.timezone if report is not None else None):
            rendered = render_email(email["template"], email["locale"], email["context"])
        message.subject, message.body, message.html_body = rendered
    return message.subject, message.body, message.html_body


def _queue_webhook(
    key: str,
    department: Department,
    report: Report,
    name: str,
    reason: str,
    contact: dict | None,
    look_up: bool = True,
) -> OutboxMessage | None:
    if look_up and _is_queued(key):
        return None
    message_id = str(uuid.uuid4())
    payload = {
        "id": message_id,
        "event": WEBHOOK_EVENTS[name],
        "occurred_at": utcnow().isoformat(),
        "department": {"id": department.id, "slug": department.slug, "name": department.name},
        "report": _report_document(report, internal=not department.is_external),
    }
    if reason:
        payload["reason"] = reason
    if contact:
        payload["reporter"] = contact
    message = OutboxMessage(
        message_id=message_id,
        dedupe_key=key,
        channel=Channel.WEBHOOK,
        recipient=department.webhook_url,
        subject=f"{payload['event']} {report.reference}",
        payload=payload,
        report_id=report.id,
    )
    return _write(message)


def _notify_department(
    department: Department,
    report: Report,
    name: str,
    *,
    key: str,
    reason: str = "",
    contact: dict | None = None,
    look_up: bool = True,
) -> list[OutboxMessage]:
    """One message to a department by its delivery method: email, webhook, the report itself
    to its Open311 system, or nothing.
    `look_up` False: the caller knows `key` cannot be queued yet."""
    if department.delivery_method == Delivery.EMAIL:
        locale = _locale(report.city.locale)
        facts = _public_facts(report, locale)
        if not department.is_external:
            facts |= _ticket_facts(report, locale)
        context = {**facts, "department": department.name, "reason": reason, "contact": contact}
        message = _queue_email(
            key, department.email, name, locale, context, report, look_up=look_up
        )
    elif department.delivery_method == Delivery.WEBHOOK:
        message = _queue_webhook(key, department, report, name, reason, contact, look_up)
    elif department.delivery_method == Delivery.OPEN311:
        # Once per report and department, whatever the notification (tellcity.open311.client).
        message = open311_client.queue_report(department, report, look_up=look_up)
    else:
        return []
    return [message] if message is not None else []


def _email_reporter(report: Report, event: ReportEvent, address: str) -> OutboxMessage | None:
    locale = _locale(report.locale)
    context = {
        **_event_facts(report, event, locale, with_text=True),
        "is_reporter": True,
        "public_url": tracking_url(report, external=True),
    }
    if event.type == EventType.STATUS_CHANGE and event.to_value == Status.RESOLVED:
        context["confirm_url"] = reporter_action_url(report, "confirm")
        context["reopen_url"] = reporter_action_url(report, "reopen")
    key = f"status_change:{event.id}:{_digest(address)}"
    return _email_to_reporter(key, address, "status_change", locale, context, report)


def _email_follower(
    report: Report, event: ReportEvent, follower: Follower, by_reporter: bool = False
) -> OutboxMessage | None:
    locale = _locale(follower.locale)
    unsubscribe_url = absolute_url(f"/subscriptions/{follower.token}/unsubscribe")
    facts = _event_facts(report, event, locale, with_text=not by_reporter)
    context = {
        **facts,
        # A follower is anyone: they read the report as the public pages show it.
        "address": public_text(report).address,
        "text": mask_contacts(facts["text"], contact_region(report.city)),
        "is_reporter": False,
        "unsubscribe_url": unsubscribe_url,
    }
    key = f"status_change:{event.id}:{_digest(follower.email)}"
    headers = {"List-Unsubscribe": f"<{unsubscribe_url}>"}
    return _queue_email(key, follower.email, "status_change", locale, context, report, headers)


def _email_to_reporter(
    key: str,
    address: str,
    template: str,
    locale: str,
    context: dict,
    report: Report,
    look_up: bool = True,
) -> OutboxMessage | None:
    """Queue an email to the reporter, with the link (and header) that stops their emails."""
    unsubscribe_url = reporter_unsubscribe_url(report)
    context = {**context, "unsubscribe_url": unsubscribe_url}
    headers = {"List-Unsubscribe": f"<{unsubscribe_url}>"}
    return _queue_email(key, address, template, locale, context, report, headers, look_up)


# What each recipient may know of a report


def _public_facts(report: Report, locale: str) -> dict:
    """What anybody may read of the report: never who reported it."""
    return {
        "kind": report.kind,
        "reference": report.reference,
        "category": report.category.name(locale),
        "status_label": _status_label(report.status, locale),
        "description": report.description,
        "address": report.address,
        "position": _position(report),
        "photos_count": _photos_count(report),
        "created_at": _local_time(report, report.created_at, locale),
        "public_url": absolute_url(f"/reports/{report.reference}"),
    }


def _ticket_facts(report: Report, locale: str) -> dict:
    """What the city's staff see besides: priority, deadline, the ticket page."""
    return {
        "kind": report.kind,
        "reference": report.reference,
        "category": report.category.name(locale),
        "priority": PRIORITY_LABELS[locale].get(report.priority, str(report.priority)),
        "zone": report.zone.name if report.zone else "",
        "due_at": _local_time(report, report.due_at, locale),
        "staff_url": absolute_url(f"/staff/tickets/{report.reference}"),
    }


def _event_facts(report: Report, event: ReportEvent, locale: str, *, with_text: bool) -> dict:
    """What a resident's email says of an event: the report's public facts, the step the event
    marks and what that step names (the new department, the outside body, the original of a
    duplicate, the reason code of a closure), and the public text when `with_text`. A
    transfer's text never: it is the staff's reason."""
    step = _step(event)
    is_status_event = event.type in (EventType.STATUS_CHANGE, EventType.REOPEN)
    tells_text = with_text and event.is_public and event.type != EventType.TRANSFER
    return {
        "kind": report.kind,
        "reference": report.reference,
        "category": report.category.name(locale),
        "address": report.address,
        "public_url": absolute_url(f"/reports/{report.reference}"),
        "step": step,
        "new_status": _status_label(event.to_value, locale) if is_status_event else None,
        "text": (event.text or "").strip() if tells_text else "",
        **_step_facts(report, event, step),
    }


def _step(event: ReportEvent) -> str | None:
    """The step of the report `event` marks for its residents (the new status, "reopened",
    "transferred", "reply"), or None when they are not told of it."""
    if event.type == EventType.STATUS_CHANGE and event.is_public:
        return event.to_value
    if event.type == EventType.PUBLIC_REPLY and (event.text or "").strip():
        return "reply"
    return RESIDENT_EVENTS.get(event.type)


def _step_facts(report: Report, event: ReportEvent, step: str | None) -> dict:
    """What a step names besides the report: who has it now, or why it was closed."""
    data = event.data or {}
    if step in ("acknowledged", "transferred"):
        return {"department": report.department.name}
    if step == Status.REFERRED:
        return {"body": report.referred_to.name if report.referred_to else ""}
    if step == Status.DUPLICATE:
        original_id = data.get("duplicate_of") or report.duplicate_of_id
        original = db.session.get(Report, original_id) if original_id else None
        if original is None:  # deleted since
            return {}
        return {
            "original_reference": original.reference,
            "original_url": absolute_url(f"/reports/{original.reference}"),
        }
    if step in (Status.NOT_ACTIONABLE, Status.REJECTED):
        return {"reason": data.get("reason") or report.close_reason or ""}
    return {}


def _understood(report: Report, locale: str) -> dict:
    """What the reporter sent, as it was understood: the place (its address, else its
    position until the address is known), the answers to the category's questions."""
    answers = labelled(report.category, report.attributes, locale)
    return {
        "kind": report.kind,
        "reference": report.reference,
        "category": report.category.name(locale),
        "address": report.address,
        "position": "" if report.address else _position(report),
        "answers": [{"question": a["question"], "text": a["text"]} for a in answers],
        "description": report.description,
        "photos_count": _photos_count(report),
        "created_at": _local_time(report, report.created_at, locale),
    }


def _report_document(report: Report, *, internal: bool) -> dict:
    """The report in a webhook call; `internal` adds what only the city's staff see."""
    document = {
        "reference": report.reference,
        "kind": report.kind,
        "category": {
            "code": report.category.code,
            "name_fr": report.category.name_fr,
            "name_en": report.category.name_en,
        },
        "status": report.status,
        "description": report.description,
        "lat": report.lat,
        "lon": report.lon,
        "address": report.address,
        "photos_count": _photos_count(report),
        "created_at": report.created_at.isoformat() if report.created_at else None,
        "url": absolute_url(f"/reports/{report.reference}"),
    }
    if internal:
        document |= {
            "priority": Priority.NAMES.get(report.priority),
            "zone": report.zone.name if report.zone else None,
            "due_at": report.due_at.isoformat() if report.due_at else None,
            "staff_url": absolute_url(f"/staff/tickets/{report.reference}"),
        }
    return document


def _reporter_contact(report: Report) -> dict:
    """The reporter's name, email and phone, completed from their account if they had one."""
    user = db.session.get(User, report.reporter_id) if report.reporter_id else None
    return {
        "name": report.reporter_name or (user.name if user else None) or None,
        "email": report.reporter_email or (user.email if user else None),
        "phone": report.reporter_phone or None,
    }


def _department_contact(department: Department, report: Report) -> dict | None:
    """The reporter's contact for the city's own departments; none for an outside body."""
    return None if department.is_external else _reporter_contact(report)


# Small helpers


def _locale(value: str | None) -> str:
    value = (value or "").lower()[:2]
    return value if value in LOCALES else "fr"


def absolute_url(path: str) -> str:
    """`path` as an absolute URL on the site's public address (BASE_URL): the links of emails,
    webhooks and Open311 forwards, which the worker builds without a request."""
    return current_app.config["BASE_URL"].rstrip("/") + path


def _digest(address: str) -> str:
    """A short stable stand-in for an email address in a dedupe key (keys are 128 long at
    most; addresses up to 254)."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()[:32]


def _status_label(status: str | None, locale: str) -> str:
    """The status as the site names it (the same words as the report's page)."""
    if status not in STATUS_LABELS:
        return status or ""
    return _translated_status(status, locale)


@functools.cache
def _translated_status(status: str, locale: str) -> str:
    """Translated once per process: switching the language for one word costs more than the
    rest of a notification's facts."""
    with force_locale(locale):
        return str(STATUS_LABELS[status])


def _position(report: Report) -> str:
    """ "lat, lon" to six decimals (10 cm), or nothing for a suggestion about the whole city."""
    if report.lat is None or report.lon is None:
        return ""
    return f"{report.lat:.6f}, {report.lon:.6f}"


def _photos_count(report: Report) -> int:
    return sum(1 for photo in report.photos if not photo.is_hidden)


def _local_time(report: Report, moment: datetime | None, locale: str) -> str:
    """`moment` in the city's timezone, as people there write it."""
    if moment is None:
        return ""
    with times_in(report.city.timezone):
        return datetime_local(moment, DATE_FORMATS[locale])
