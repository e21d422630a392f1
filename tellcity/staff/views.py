"""The queue, its map, its CSV export and bulk actions."""

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user

from tellcity.accounts.models import Role, User
from tellcity.core.actions import attempt
from tellcity.core.auth import current_actor, staff_required
from tellcity.core.db import utcnow
from tellcity.core.errors import Invalid, NotAllowed
from tellcity.core.params import id_param
from tellcity.core.permissions import can_export_contacts
from tellcity.core.transaction import after_commit
from tellcity.core.urls import safe_next
from tellcity.departments.models import Department
from tellcity.reports.states import STATUS_LABELS, Status
from tellcity.sla.queries import sla_state
from tellcity.staff import queries, services
from tellcity.staff.exports import tickets_csv

bp = Blueprint("staff", __name__, url_prefix="/staff")


def _choices():
    """What the filters offer: the user's city's categories, zones and departments."""
    city_id = current_user.city_id
    return {
        "categories": queries.categories(city_id),
        "zones": queries.zones(city_id),
        "departments": queries.departments(city_id),
        "statuses": list(Status),
        "STATUS_LABELS": STATUS_LABELS,
    }


@bp.get("/")
@staff_required()
def queue():
    filters = queries.QueueFilters.from_args(request.args)
    rows, next_cursor = queries.queue(current_user, filters, after=request.args.get("after"))
    return render_template(
        "staff/queue.html",
        filters=filters,
        rows=rows,
        next_cursor=next_cursor,
        counts=_status_counts(filters),
        sla_state=sla_state,
        now=utcnow(),
        departments_for_transfer=_transfer_targets(),
        may_export_contacts=can_export_contacts(current_actor()),
        **_choices(),
    )


def _status_counts(filters: queries.QueueFilters) -> dict[str, str]:
    """The tickets per status as the queue shows them: "1,000+" past the counting cap."""
    cap = current_app.config["QUEUE_COUNT_CAP"]
    counts = queries.status_counts(current_user, filters, cap)
    return {
        status: _("%(count)s+", count=format_decimal(cap)) if n > cap else format_decimal(n)
        for status, n in counts.items()
    }


def _transfer_targets() -> list[Department]:
    return queries.departments(current_user.city_id, internal_only=True)


@bp.get("/map")
@staff_required()
def map():
    filters = queries.QueueFilters.from_args(request.args)
    if request.args.get("format") == "json":
        return jsonify(points=queries.map_points(current_user, filters))
    return render_template("staff/map.html", filters=filters, **_choices())


@bp.get("/export.csv")
@staff_required()
def export_csv():
    """The filtered queue as CSV, streamed. Reporters' contact details only when a manager or
    an administrator asks for them explicitly (personal=1)."""
    filters = queries.QueueFilters.from_args(request.args)
    personal = request.args.get("personal") == "1"
    try:
        chunks = tickets_csv(current_actor(), filters, personal=personal)
    except NotAllowed as refusal:
        flash(refusal.message, "error")
        return redirect(url_for("staff.queue", **filters.to_args()))
    response = Response(chunks, mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=tickets.csv"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/bulk")
@staff_required(Role.AGENT, Role.MANAGER, Role.ADMIN)
def bulk_update():
    """One action on the tickets ticked in the queue; each gets its own event."""
    references = request.form.getlist("ticket")[:200]
    tickets = [t for t in (queries.ticket(current_user, r) for r in references) if t]
    action = request.form.get("action", "")
    outcome = attempt(
        lambda: services.bulk(
            tickets,
            action,
            current_actor(),
            assignee=_user(request.form.get("assignee")),
            department=_department(request.form.get("department")),
            original=queries.ticket(current_user, request.form.get("original", "").strip().upper()),
            reason=request.form.get("reason", ""),
        ),
        refusals=(Invalid,),
    )
    if outcome.error is not None:
        flash(outcome.error.message, "error")
    else:
        after_commit(lambda: _say_done(outcome.result))
    return redirect(safe_next(request.form.get("back"), url_for("staff.queue")))


def _say_done(result: services.BulkResult) -> None:
    if result.done:
        flash(
            _(
                "Done for %(count)s ticket(s): %(refs)s",
                count=len(result.done),
                refs=", ".join(result.done),
            ),
            "success",
        )
    for reference, message in result.refused.items():
        flash(f"{reference}: {message}", "error")


def _user(value: str | None) -> User | None:
    """The user chosen: "me", nobody (no value) or an id; raises Invalid for an id of nobody."""
    if value == "me":
        return current_user._get_current_object()
    if not value:
        return None
    user_id = id_param(value)
    user = queries.user(user_id) if user_id else None
    if user is None:
        raise Invalid(_("a ticket goes to a member of its department"), field="assignee")
    return user


def _department(value: str | None) -> Department | None:
    department_id = id_param(value)
    return queries.department(department_id, current_user.city_id) if department_id else None
