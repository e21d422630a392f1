"""A report's history in words. An event is stored as a type, its values (statuses, priorities,
department slugs, user ids) and, for what the system itself says, a message code with its
parameters in `data` (`data["message"]`); only what a person typed (a reply, a note, a reason)
is stored as text. The sentences are made here, when the event is read, in the reader's
language (the current Flask-Babel locale: the page's, or the one an email forces) and with
times in the city's time zone (core.i18n.datetime_local), so a French page never shows an
English sentence written for somebody else.

`describe` is the event's sentence, `system_note` the note the system attached to it (a
duplicate's "Merged into ..."), `told_text` what a single text field (the APIs, Open311) gives:
the words typed, else that note. `actor_name` says who acted, `routing_reason` why a report
went where it went. Names are looked up when read, and a department, user or category
deleted since is named as such rather than by its code."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from tellcity.accounts.models import User
from tellcity.categories.models import Category
from tellcity.cities.models import City, Zone
from tellcity.core.caches import caches
from tellcity.core.i18n import datetime_local
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.reports.models import Report, ReportEvent
from tellcity.reports.queries import PUBLIC_EVENT_TYPES
from tellcity.reports.states import PRIORITY_LABELS, STATUS_LABELS, EventType, Kind

#: Codes of the notes the system attaches to an event (data["message"]).
MERGED_INTO = "merged_into"
ALREADY_FOLLOWED = "already_followed"
ESCALATION = "escalation"

#: Why a closure could not be acted on or was rejected (the codes of lifecycle.REASON_CODES).
REASON_LABELS = {
    "private_property": _l("the place is private property"),
    "not_city_responsibility": _l("this is not the city's responsibility"),
    "insufficient_information": _l("the information given is not enough"),
    "cannot_locate": _l("the place could not be found"),
    "already_planned": _l("work is already planned there"),
    "spam": _l("unwanted message"),
    "abuse": _l("abusive content"),
    "personal_data": _l("it contained personal data"),
    "test": _l("it was a test"),
    "other": _l("another reason"),
}


def reason_label(code: str | None) -> str:
    """A closing reason in words, in the current language, as a resident's email says it:
    nothing for no reason or "other" (the email then names none)."""
    label = REASON_LABELS.get(code or "") if code != "other" else None
    return str(label) if label is not None else ""


#: To whom an overdue ticket was escalated (the escalation's data["via"]).
ESCALATED_VIA = {
    "managers": _l("the department's managers"),
    "admins": _l("the city's administrators"),
    "address": _l("the department's escalation contact"),
}

#: Who acted when no user did (ReportEvent.actor_label, written by core.permissions.Actor).
ACTOR_LABELS = {
    "resident": _l("a resident"),
    "reporter": _l("the reporter"),
    "system": _l("TellCity"),
    "SLA escalation": _l("deadline watch"),
    "cli": _l("command line"),
}


def describe(event: ReportEvent, *, public: bool = False) -> str:
    """The sentence of `event` in the current language. `public`: as the report's public
    page tells it (it names no department, person or internal detail)."""
    if public and event.type not in PUBLIC_EVENT_TYPES:
        return _unknown(event)
    if public and event.type in _PUBLIC:
        return _PUBLIC[event.type](event)
    return _STAFF.get(event.type, _unknown)(event)


def system_note(event: ReportEvent) -> str:
    """The note the system attached to `event` (a duplicate's "Merged into ...", a merge's
    "Merged with ..."), in the current language; "" when there is none."""
    return note_of(event.type, event.data)


def note_of(type_: str, data: dict | None) -> str:
    """system_note from an event's type and data alone (for a query that reads only those)."""
    data = data or {}
    code = data.get("message")
    if code == MERGED_INTO:
        return _(
            "Merged into %(reference)s, which follows the same problem.",
            reference=data.get("reference", ""),
        )
    if code == ALREADY_FOLLOWED:
        return _(
            "This problem is already followed in %(reference)s.",
            reference=data.get("reference", ""),
        )
    if type_ == EventType.MERGE and data.get("merged"):
        return _("Merged with %(references)s", references=", ".join(data["merged"]))
    return ""


def told_text(event: ReportEvent) -> str:
    """What one text field says of `event`: the words a person typed, else the system's
    note (for the APIs and Open311, which have one description per event)."""
    return event.text or system_note(event)


def actor_name(event: ReportEvent) -> str:
    """Who made `event`: a user's name as it was, an app's key, or who else in words."""
    label = event.actor_label or ""
    if event.actor_id is None and label.startswith("API key "):
        return _("app %(name)s", name=label.removeprefix("API key "))
    if event.actor_id is None and label in ACTOR_LABELS:
        return str(ACTOR_LABELS[label])
    return label


def routing_reason(routing: dict, city: City) -> str:
    """Why routing chose its department, from its decision (routing.services.Routing.data, as
    stored in a report's first event) in `city`. Decisions stored before they said their
    basis are read from their rule id and English reason."""
    reason = routing.get("reason") or ""
    basis = routing.get("basis") or (
        "rule" if routing.get("rule_id") else "default" if reason.startswith("default") else ""
    )
    category = _category_name(city, routing.get("category") or _code_in(reason))
    if basis == "rule":
        zone = _zone_of_rule(city, routing, reason)
        if zone:
            return _(
                "rule #%(rule)s: %(category)s in %(zone)s",
                rule=routing.get("rule_id"),
                category=category,
                zone=zone,
            )
        return _(
            "rule #%(rule)s: %(category)s in any zone",
            rule=routing.get("rule_id"),
            category=category,
        )
    if basis == "default":
        return _("default department of %(category)s", category=category)
    return _("no rule and no default department: triage")


def _code_in(reason: str) -> str | None:
    """The category code an old English reason names ("default department of pothole",
    "rule #3: pothole in ...")."""
    if reason.startswith("default department of "):
        return reason.removeprefix("default department of ")
    if reason.startswith("rule #") and ": " in reason:
        return reason.split(": ", 1)[1].split(" in ", 1)[0]
    return None


def _zone_of_rule(city: City, routing: dict, reason: str) -> str | None:
    if "basis" in routing:
        slug = routing.get("rule_zone")
        return _zone_name(city, slug) if slug else None
    where = reason.split(" in ", 1)[1] if " in " in reason else ""
    return None if where in ("", "any zone") else where  # the zone's name, as it was


# Names, looked up when read


def _department_name(city: City, slug_or_id) -> str:
    """A department named by its slug (a transfer, a routing) or its id (a referral)."""
    if slug_or_id in (None, ""):
        return _("no department")
    name = _names(city).departments.get(str(slug_or_id))
    return name or _("a department since deleted")


def _user_name(user_id) -> str:
    user = db.session.get(User, int(user_id)) if str(user_id or "").isdigit() else None
    if user is None:
        return _("a former member of staff")
    return user.name or user.email


def _category_name(city: City, code: str | None) -> str:
    category = _names(city).categories.get(code or "")
    return category.name(_locale()) if category is not None else _("a category since deleted")


def _zone_name(city: City, slug: str) -> str:
    return _names(city).zones.get(slug) or _("a zone since deleted")


@dataclass(frozen=True)
class _Names:
    """The names a city's history refers to by code: its departments (by slug and by id),
    zones (by slug) and categories (by code; rows outside any session, for Category.name)."""

    departments: dict[str, str]
    zones: dict[str, str]
    categories: dict[str, Category]


def _names(city: City) -> _Names:
    """The city's names, read once per configuration version and kept by the process
    (core.caches): a ticket's history does not look each one up. A department, zone or
    category deleted since is not there."""
    session = db.session()
    return caches(session).get(
        session, "history", city.id, city.config_version, lambda is_kept: _load_names(city.id)
    )


def _load_names(city_id: int) -> _Names:
    departments = db.session.execute(
        sa.select(Department.id, Department.slug, Department.name).where(
            Department.city_id == city_id
        )
    ).all()
    zones = db.session.execute(sa.select(Zone.slug, Zone.name).where(Zone.city_id == city_id))
    categories = db.session.execute(
        sa.select(Category.code, Category.name_fr, Category.name_en).where(
            Category.city_id == city_id
        )
    )
    return _Names(
        departments={str(key): name for id_, slug, name in departments for key in (id_, slug)},
        zones=dict(zones.all()),
        categories={
            code: Category(code=code, name_fr=name_fr, name_en=name_en)
            for code, name_fr, name_en in categories
        },
    )


def _report_reference(report_id) -> str:
    report = db.session.get(Report, int(report_id)) if str(report_id or "").isdigit() else None
    return report.reference if report is not None else _("a report since deleted")


def _status(value) -> str:
    label = STATUS_LABELS.get(value)
    return str(label) if label is not None else _("unknown status")


def _priority(value) -> str:
    label = PRIORITY_LABELS.get(int(value)) if str(value or "").isdigit() else None
    return str(label) if label is not None else _("unknown priority")


def _locale() -> str:
    return str(get_locale() or "fr")


# The sentences, by type


def _created(event: ReportEvent) -> str:
    routing = (event.data or {}).get("routing")
    if not routing:
        return _("Report received")
    return _(
        "Received and routed to %(department)s (%(reason)s)",
        department=_department_name(event.report.city, routing.get("department")),
        reason=routing_reason(routing, event.report.city),
    )


def _status_change(event: ReportEvent) -> str:
    sentence = _(
        "Status changed from %(old)s to %(new)s",
        old=_status(event.from_value),
        new=_status(event.to_value),
    )
    return " · ".join([sentence, *_closure_details(event)])


def _closure_details(event: ReportEvent) -> list[str]:
    """What a closing move names: the reason, the original, the outside body."""
    data, city = event.data or {}, event.report.city
    details = []
    if data.get("reason"):
        label = REASON_LABELS.get(data["reason"])
        details.append(_("reason: %(reason)s", reason=label or _("another reason")))
    if data.get("duplicate_of"):
        details.append(
            _("duplicate of %(reference)s", reference=_report_reference(data["duplicate_of"]))
        )
    if data.get("referred_to"):
        details.append(_("referred to %(body)s", body=_department_name(city, data["referred_to"])))
    return details


def _reopen(event: ReportEvent) -> str:
    return _("Reopened: %(status)s", status=_status(event.to_value))


def _transfer(event: ReportEvent) -> str:
    old = _department_name(event.report.city, event.from_value)
    new = _department_name(event.report.city, event.to_value)
    routing = (event.data or {}).get("routing")
    if routing:
        return _(
            "Rerouted from %(old)s to %(new)s (%(reason)s)",
            old=old,
            new=new,
            reason=routing_reason(routing, event.report.city),
        )
    return _("Transferred from %(old)s to %(new)s", old=old, new=new)


def _assignment(event: ReportEvent) -> str:
    if event.to_value:
        return _("Assigned to %(name)s", name=_user_name(event.to_value))
    if event.from_value:
        return _("No longer assigned to %(name)s", name=_user_name(event.from_value))
    return _("Left unassigned")


def _priority_change(event: ReportEvent) -> str:
    return _(
        "Priority changed from %(old)s to %(new)s",
        old=_priority(event.from_value),
        new=_priority(event.to_value),
    )


def _comment(event: ReportEvent) -> str:
    if event.report.kind == Kind.SUGGESTION:
        return _("The author of the idea added a comment")
    return _("The reporter added a comment")


def _merge(event: ReportEvent) -> str:
    count = len((event.data or {}).get("merged") or []) or 1
    return ngettext(
        "A similar report was merged into this one",
        "%(num)s similar reports were merged into this one",
        count,
    )


def _photo_added(event: ReportEvent) -> str:
    count = int(event.to_value) if str(event.to_value or "").isdigit() else 1
    return ngettext("%(num)s photo added", "%(num)s photos added", count)


def _moderation(event: ReportEvent) -> str:
    hidden = event.to_value == "hidden"
    if event.from_value:  # an entry of the timeline
        return _("An entry was hidden from the public") if hidden else _("An entry was shown again")
    return _("Hidden from the public") if hidden else _("Shown to the public again")


def _edit(event: ReportEvent) -> str:
    field = (event.data or {}).get("field") or event.from_value
    if field == "category":
        return _(
            "Category changed from %(old)s to %(new)s",
            old=_category_name(event.report.city, event.from_value),
            new=_category_name(event.report.city, event.to_value),
        )
    if field == "position":
        return _("Position moved")
    return _("Description edited")


def _escalation(event: ReportEvent) -> str:
    data = event.data or {}
    if data.get("message") != ESCALATION:
        return _("Escalated: the ticket is overdue")  # an old one: its text says the rest
    due = _moment(data.get("due_at"))
    contacts = ", ".join(data.get("contacts") or [])
    if not contacts:
        return _("Overdue since %(due)s: escalated", due=due)
    via = ESCALATED_VIA.get(data.get("via"))
    if via is None:
        return _("Overdue since %(due)s: escalated to %(contacts)s", due=due, contacts=contacts)
    return _(
        "Overdue since %(due)s: escalated to %(contacts)s (%(via)s)",
        due=due,
        contacts=contacts,
        via=via,
    )


def _moment(value) -> str:
    try:
        return datetime_local(datetime.fromisoformat(value)) if value else "?"
    except (TypeError, ValueError):
        return "?"


def _unknown(event: ReportEvent) -> str:
    return _("Update")


_STAFF = {
    EventType.CREATED: _created,
    EventType.STATUS_CHANGE: _status_change,
    EventType.TRANSFER: _transfer,
    EventType.ASSIGNMENT: _assignment,
    EventType.PRIORITY_CHANGE: _priority_change,
    EventType.PUBLIC_REPLY: lambda event: _("Public reply"),
    EventType.COMMENT: _comment,
    EventType.INTERNAL_NOTE: lambda event: _("Internal note"),
    EventType.MERGE: _merge,
    EventType.PHOTO_ADDED: _photo_added,
    EventType.MODERATION: _moderation,
    EventType.EDIT: _edit,
    EventType.CONFIRMATION: lambda event: _("The reporter confirmed the fix"),
    EventType.REOPEN: _reopen,
    EventType.ESCALATION: _escalation,
}

#: What the public timeline says (reports.queries.PUBLIC_EVENT_TYPES): the move, never who.
_PUBLIC = {
    EventType.STATUS_CHANGE: lambda event: _("Status: %(status)s", status=_status(event.to_value)),
    EventType.PUBLIC_REPLY: lambda event: _("The department answered"),
    EventType.PHOTO_ADDED: lambda event: _("A photo was added"),
    EventType.MERGE: lambda event: _("Merged with a similar report"),
}
