"""The Open311 client's writes: queuing a report for a remote department (in the transaction
that routed it there), fetching the remote's services, mapping our categories to them, and
sending a refused report again. Services flush; the caller commits.

A report is queued once per remote department: one outbox message (channel "open311",
dedupe key "open311:<report>:<department>") and one RemoteRequest row, which says where it
stands there. The worker builds the request from the report as it is when it sends it
(tellcity.open311.client.sending)."""

from collections.abc import Mapping

import sqlalchemy as sa
from flask_babel import gettext as _

from tellcity.admin.access import require_admin
from tellcity.audit.services import record, snapshot
from tellcity.categories import questions
from tellcity.categories.models import Category
from tellcity.core.db import utcnow, write_new
from tellcity.core.errors import Conflict, Invalid, NotAllowed
from tellcity.core.permissions import Actor, can_manage
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.notify.models import Channel, OutboxMessage, OutboxStatus
from tellcity.open311.client import remote
from tellcity.open311.client.models import (
    REPORT_FIELDS,
    Open311Mapping,
    RemoteRequest,
    RemoteState,
)
from tellcity.reports.models import Report

#: What a resend may start again: a refusal (the remote's, or ours: nothing mapped), a token
#: the remote lost, or a forward the outbox gave up on (tellcity.open311.client.sending).
RESENDABLE = (RemoteState.REFUSED,)


def dedupe_key(report_id: int, department_id: int) -> str:
    return f"open311:{report_id}:{department_id}"


# --- Queuing --------------------------------------------------------------------------------


def queue_report(
    department: Department, report: Report, *, look_up: bool = True
) -> OutboxMessage | None:
    """Queue `report` for `department`'s Open311 system, once: its outbox message and its
    RemoteRequest ("queued"). Returns the message, or None when it was queued before (a
    report that came back to the department before it was sent there is queued again).
    `look_up` False: the report is new in this transaction, nothing can name it yet."""
    if not look_up:
        write_new(db.session, RemoteRequest(report_id=report.id, department_id=department.id))
        message = _new_message(report, department)
        write_new(db.session, message)
        return message
    row = remote_request(report.id, department.id)
    if row is None:
        row = RemoteRequest(report_id=report.id, department_id=department.id)
        db.session.add(row)
    message = _message(report.id, department.id)
    if message is None:
        message = _new_message(report, department)
        db.session.add(message)
        return message
    if row.state == RemoteState.STOPPED and not row.service_request_id:
        _queue_again(row, message)
        return message
    return None


def _message(report_id: int, department_id: int) -> OutboxMessage | None:
    key = dedupe_key(report_id, department_id)
    return db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.dedupe_key == key))


def _new_message(report: Report, department: Department) -> OutboxMessage:
    return OutboxMessage(
        dedupe_key=dedupe_key(report.id, department.id),
        channel=Channel.OPEN311,
        recipient=department.open311_endpoint,
        subject=f"Open311 {report.reference}",
        payload={"report_id": report.id, "department_id": department.id},
        report_id=report.id,
    )


def _queue_again(row: RemoteRequest, message: OutboxMessage) -> None:
    """The forward back to "queued", its message due now with a fresh set of attempts (the
    same message id: a remote honouring Idempotency-Key still knows a request it made). One
    that holds a token is made there: back to "token", to follow it, never POSTed again."""
    row.state = RemoteState.TOKEN if row.token else RemoteState.QUEUED
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = utcnow()
    message.locked_until = None


def remote_request(report_id: int, department_id: int) -> RemoteRequest | None:
    return db.session.scalar(
        sa.select(RemoteRequest).where(
            RemoteRequest.report_id == report_id, RemoteRequest.department_id == department_id
        )
    )


def resend(report: Report, row: RemoteRequest, *, actor: Actor) -> RemoteRequest:
    """Send a refused report to the remote again (once its mapping is fixed, or the remote is
    back): back to "queued" (to "token" when it holds one: followed, not POSTed), its outbox
    message due now with a fresh set of attempts (made again if it was removed). Recorded in
    the audit log. Raises NotAllowed but for the department's managers
    and the city's administrators; Conflict when it is not refused."""
    if not can_manage(actor, report) or actor.kind == "remote":
        raise NotAllowed(_("only the department's managers can send a ticket again"))
    if row.state not in RESENDABLE or row.service_request_id:
        raise Conflict(_("Only a report the remote system refused can be sent again."))
    before = snapshot(row)
    message = _message(report.id, row.department_id)
    if message is None:  # removed from the outbox since
        message = _new_message(report, db.session.get(Department, row.department_id))
        db.session.add(message)
    _queue_again(row, message)
    record(actor, "resend", row, before, city_id=report.city_id)
    return row


# --- The remote's services, and our mapping ---------------------------------------------------


def fetch_services(department: Department, *, actor: Actor) -> list[dict]:
    """GET the remote's services.json, and the definition of each service with metadata, and
    keep them on the department (`open311_services`, each service with its `attributes`).
    Raises NotAllowed; Invalid when the department has no endpoint or the remote cannot be
    read (what was kept before stays)."""
    require_admin(actor, department.city_id)
    endpoint = department.open311_endpoint
    if not endpoint:
        raise Invalid(_("Give the Open311 endpoint first, and save."))
    jurisdiction = department.open311_jurisdiction
    try:
        address = remote.url(endpoint, "services.json", jurisdiction_id=jurisdiction)
        listed = remote.get_json(address)
        if not isinstance(listed, list):
            raise remote.RemoteUnavailable("services.json is not a list")
        services = []
        for service in listed:
            if not isinstance(service, Mapping) or not service.get("service_code"):
                continue
            service = dict(service)
            service["attributes"] = []
            if _truthy(service.get("metadata")):
                code = str(service["service_code"])
                path = f"services/{remote.quote(code)}.json"
                definition = remote.get_json(
                    remote.url(endpoint, path, jurisdiction_id=jurisdiction)
                )
                if isinstance(definition, Mapping):
                    service["attributes"] = [
                        attribute
                        for attribute in definition.get("attributes") or []
                        if isinstance(attribute, Mapping) and attribute.get("code")
                    ]
            services.append(service)
    except remote.RemoteError as error:
        raise Invalid(
            _("The Open311 system could not be read (%(error)s); nothing was changed.", error=error)
        ) from error
    before = snapshot(department, ("open311_services_at",))
    department.open311_services = services
    department.open311_services_at = utcnow()
    record(actor, "fetch", department, before, columns=("open311_services_at",))
    return services


def _truthy(value) -> bool:
    return value is True or str(value).lower() == "true"


def remote_service(department: Department, service_code: str) -> Mapping | None:
    for service in department.open311_services or []:
        if str(service.get("service_code")) == service_code:
            return service
    return None


def mappings(department: Department) -> dict[int, Open311Mapping]:
    """The department's mappings, by category id."""
    rows = db.session.scalars(
        sa.select(Open311Mapping).where(Open311Mapping.department_id == department.id)
    )
    return {row.category_id: row for row in rows}


def save_mapping(
    department: Department,
    category: Category,
    service_code: str,
    attributes: Mapping[str, str],
    *,
    actor: Actor,
) -> Open311Mapping | None:
    """Map `category` to the remote service `service_code` ("" removes the mapping), with
    `attributes` (remote attribute code -> our question code, or one of REPORT_FIELDS, "" for
    none). Recorded in the
    audit log. Raises NotAllowed; Invalid for a service or attribute the remote did not list
    or a question the category does not ask, or a required attribute left unmapped."""
    require_admin(actor, department.city_id)
    if category.city_id != department.city_id:
        raise NotAllowed(_("This category is another city's."))
    row = mappings(department).get(category.id)
    service_code = (service_code or "").strip()
    if not service_code:
        if row is not None:
            before = snapshot(row)
            db.session.delete(row)
            record(actor, "delete", row, before, city_id=department.city_id)
        return None
    service = remote_service(department, service_code)
    if service is None:
        raise Invalid(
            _("%(code)s is not one of the remote's services: fetch them again.", code=service_code),
            field=f"service-{category.id}",
        )
    ours = {str(question["code"]) for question in questions.asked(category)}
    theirs = {str(attribute["code"]): attribute for attribute in service.get("attributes") or []}
    chosen = {}
    for code, question in attributes.items():
        question = (question or "").strip()
        if code not in theirs:
            continue
        if question and question not in ours and question not in REPORT_FIELDS:
            raise Invalid(
                _("%(question)s is not a question of this category.", question=question),
                field=f"service-{category.id}",
            )
        if question:
            chosen[code] = question
    # Its attributes were offered on the form only if the service was already chosen.
    offered = row is not None and row.service_code == service_code
    for code, attribute in theirs.items():
        required = _truthy(attribute.get("required")) and _truthy(attribute.get("variable", True))
        if offered and required and code not in chosen:
            raise Invalid(
                _("The remote requires %(code)s: choose the question that answers it.", code=code),
                field=f"service-{category.id}",
            )
    if offered and (row.attributes or {}) == chosen:
        return row  # unchanged
    if row is None:
        row = Open311Mapping(department_id=department.id, category_id=category.id)
        db.session.add(row)
        before, action = None, "create"
    else:
        before, action = snapshot(row), "update"
    row.service_code = service_code
    row.attributes = chosen
    record(actor, action, row, before, city_id=department.city_id)
    return row
