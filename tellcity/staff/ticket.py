"""The ticket page — everything on one screen — and its actions. Each action is a small POST
that calls one service and comes back to the page."""

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from tellcity.accounts.models import Role
from tellcity.core.actions import attempt
from tellcity.core.auth import current_actor, staff_required
from tellcity.core.errors import Invalid
from tellcity.core.i18n import show_times_of
from tellcity.core.params import float_param, id_param, int_param
from tellcity.core.permissions import can_handle, can_manage, can_transfer
from tellcity.notify.queries import report_followers
from tellcity.open311.client import services as open311_client
from tellcity.open311.client.models import STATE_LABELS as REMOTE_STATE_LABELS
from tellcity.photos.services import process_upload
from tellcity.reports import queries as public_queries
from tellcity.reports import services as reports
from tellcity.reports.history import REASON_LABELS
from tellcity.reports.lifecycle import MOVE_FIELDS, REASON_CODES, next_statuses, transition
from tellcity.reports.states import STATUS_LABELS, Priority, Status
from tellcity.sla.queries import sla_state
from tellcity.staff import queries, services

bp = Blueprint("ticket", __name__, url_prefix="/staff/tickets")
HANDLERS = (Role.AGENT, Role.MANAGER, Role.ADMIN)


def _ticket(reference: str):
    report = queries.ticket(current_user, reference)
    if report is None:
        abort(404)
    show_times_of(report.city)  # an administrator of every city reads each in its own time
    return report


@bp.get("/<reference>")
@staff_required()
def show(reference: str):
    report = _ticket(reference)
    actor = current_actor()
    city_id = report.city_id
    return render_template(
        "staff/ticket.html",
        report=report,
        actor=actor,
        can_handle=can_handle(actor, report),
        can_manage=can_manage(actor, report),
        can_transfer=can_transfer(actor, report),
        can_see_original=services.can_see_original(actor, report),
        moves=sorted(next_statuses(report)),
        reason_codes=REASON_CODES,
        reason_labels=REASON_LABELS,
        move_fields={name: sorted(statuses) for name, statuses in MOVE_FIELDS.items()},
        sla=sla_state(report, queries.utcnow()),
        hours_left=services.sla_hours_left(report),
        nearby=[
            pair
            for pair in public_queries.nearby_open(
                report.city,
                report.category,
                report.lat,
                report.lon,
                radius_m=current_app.config["NEARBY_RADIUS_M"],
                days=90,
            )
            if pair[0].id != report.id
        ]
        if report.lat is not None
        else [],
        followers=report_followers(report),
        remote_requests=queries.remote_requests(report),
        REMOTE_STATES=REMOTE_STATE_LABELS,
        colleagues=queries.colleagues(report),
        departments=queries.departments(city_id),
        categories=queries.categories(city_id, report.kind),
        templates=services.templates_for(report),
        STATUS_LABELS=STATUS_LABELS,
        priorities=Priority.NAMES,
    )


@bp.get("/<reference>/templates/<int:template_id>")
@staff_required(*HANDLERS)
def template_text(reference: str, template_id: int):
    """A reply template filled in for this ticket (the reply box fetches it)."""
    report = _ticket(reference)
    template = queries.reply_template(template_id)
    if template is None or template not in services.templates_for(report):
        abort(404)
    return jsonify(text=services.fill_template(template, report))


def _act(reference: str, action, done: str):
    """Run `action(report, actor)` and come back to the ticket (or to the queue when the
    ticket left the user's sight, after a transfer); say `done`, or why not."""
    report = _ticket(reference)
    attempt(lambda: action(report, current_actor()), done=done)
    if queries.ticket(current_user, reference) is None:
        return redirect(url_for("staff.queue"))
    return redirect(url_for("ticket.show", reference=reference))


def _form(name: str) -> str:
    return request.form.get(name, "").strip()


@bp.post("/<reference>/status")
@staff_required(*HANDLERS)
def change_status(reference: str):
    def act(report, actor):
        to = _form("to")
        duplicate_of = None
        if to == Status.DUPLICATE:
            duplicate_of = queries.ticket(current_user, _form("duplicate_of").upper())
            duplicate_of = duplicate_of or _public(report, _form("duplicate_of").upper())
        referred_to = _department(_form("referred_to"), report)
        text = _form("text") or _template_text(report)
        event = transition(
            report,
            to,
            actor,
            text=text,
            reason=_form("reason") or None,
            duplicate_of=duplicate_of,
            referred_to=referred_to,
        )
        photos = [f for f in request.files.getlist("photo") if f and f.filename]
        if photos:
            reports.add_photos(report, [process_upload(f.read()) for f in photos], actor)
        return event

    return _act(reference, act, _("Status changed."))


def _public(report, reference: str):
    original = public_queries.report_by_reference(reference) if reference else None
    return original if original is not None and original.city_id == report.city_id else None


def _department(value: str, report):
    department_id = id_param(value)
    return queries.department(department_id, report.city_id) if department_id else None


def _template_text(report) -> str:
    template_id = id_param(_form("template"))
    if template_id is None:
        return ""
    template = queries.reply_template(template_id)
    if template is None or template not in services.templates_for(report):
        return ""
    return services.fill_template(template, report)


@bp.post("/<reference>/transfer")
@staff_required(*HANDLERS)
def transfer(reference: str):
    def act(report, actor):
        department = _department(_form("department"), report)
        if department is None:
            raise Invalid(_("choose a department"), field="department")
        reports.transfer(report, department, actor, _form("reason"))

    return _act(reference, act, _("Ticket transferred."))


@bp.post("/<reference>/remote/<bigid:remote_id>/resend")
@staff_required(Role.MANAGER, Role.ADMIN)
def resend_remote(reference: str, remote_id: int):
    """Send a report the remote Open311 system refused again (its mapping fixed)."""

    def act(report, actor):
        row = queries.remote_request(report, remote_id)
        if row is None:
            abort(404)
        open311_client.resend(report, row, actor=actor)

    return _act(reference, act, _("The ticket is queued to be sent to the remote system again."))


@bp.post("/<reference>/assign")
@staff_required(*HANDLERS)
def assign(reference: str):
    def act(report, actor):
        reports.assign(report, _assignee(_form("assignee")), actor)

    return _act(reference, act, _("Assignment changed."))


def _assignee(value: str):
    """The member of staff chosen: "me", nobody (""), or a user's id; raises Invalid for an
    id that is none, rather than taking it for nobody."""
    if value == "me":
        return current_user._get_current_object()
    if not value:
        return None
    user_id = id_param(value)
    assignee = queries.user(user_id) if user_id else None
    if assignee is None:
        raise Invalid(_("a ticket goes to a member of its department"), field="assignee")
    return assignee


@bp.post("/<reference>/priority")
@staff_required(*HANDLERS)
def set_priority(reference: str):
    def act(report, actor):
        # Anything but one of the priorities is 0, which the service refuses and says why.
        priority = int_param(_form("priority"), minimum=1, maximum=max(Priority.NAMES), default=0)
        reports.set_priority(report, priority, actor)

    return _act(reference, act, _("Priority changed."))


@bp.post("/<reference>/note")
@staff_required(*HANDLERS)
def add_note(reference: str):
    return _act(
        reference,
        lambda report, actor: reports.add_note(report, _form("text"), actor),
        _("Note added."),
    )


@bp.post("/<reference>/reply")
@staff_required(*HANDLERS)
def reply(reference: str):
    def act(report, actor):
        reports.reply(report, _form("text") or _template_text(report), actor)

    return _act(reference, act, _("Reply published."))


@bp.post("/<reference>/merge")
@staff_required(*HANDLERS)
def merge(reference: str):
    def act(report, actor):
        wanted = [r.strip().upper() for r in _form("references").replace(";", ",").split(",")]
        found = [queries.ticket(current_user, r) or _public(report, r) for r in wanted if r]
        if not found or None in found:
            raise Invalid(
                _("give the references of the duplicates, separated by commas"), field="references"
            )
        services.merge(report, found, actor)

    return _act(reference, act, _("Duplicates merged into this ticket."))


@bp.post("/<reference>/visibility")
@staff_required(*HANDLERS)
def set_visibility(reference: str):
    def act(report, actor):
        services.hide_report(report, actor, _form("reason"), hidden=_form("hidden") == "1")

    return _act(reference, act, _("Visibility changed."))


@bp.post("/<reference>/events/<bigid:event_id>/visibility")
@staff_required(*HANDLERS)
def set_event_visibility(reference: str, event_id: int):
    def act(report, actor):
        event = queries.event(report, event_id)
        if event is None:
            abort(404)
        services.hide_event(event, actor, _form("reason"), hidden=_form("hidden") == "1")

    return _act(reference, act, _("Visibility changed."))


@bp.post("/<reference>/description")
@staff_required(*HANDLERS)
def edit_description(reference: str):
    def act(report, actor):
        services.edit_description(
            report, request.form.get("description", ""), actor, _form("reason")
        )

    return _act(reference, act, _("Description edited."))


@bp.post("/<reference>/correct")
@staff_required(*HANDLERS)
def correct(reference: str):
    def act(report, actor):
        code = _form("category")
        category = queries.category(report.city_id, code) if code else None
        lat, lon = float_param(request.form.get("lat")), float_param(request.form.get("lon"))
        reports.correct(
            report, actor, category=category, lat=lat, lon=lon, reroute=_form("reroute") == "1"
        )

    return _act(reference, act, _("Ticket corrected."))
