"""The worker's side of an Open311 forward: one outbox message (channel "open311") becomes
one POST of requests.json to the department's system, built from the report as it is now.

Exactly once: a RemoteRequest with a `service_request_id` is never POSTed again, and one with
a token is followed up through tokens/{token}.json instead of being POSTed again. The POST
carries `Idempotency-Key: <the outbox message's id>` (the same on every retry): a remote that
honours it (TellCity does) answers a repeat with the request it made the first time, which
covers the one gap left, a worker dying between the remote's answer and our commit.

What is sent is what the public may read of the report (its description and address with
contact details masked, its position, its category's answers as the mapping says, and as
`media_url` the public address of its first photo the public may see, as FixMyStreet does):
never the reporter's name, email or phone. The remote is a third party, like any outside body.

Outcomes: an id, the request is "open" there; a token only, "token", followed up at once and
then at each retry until the id comes; the remote unreachable, timing out or answering 5xx, a
DeliveryError (the outbox retries with its backoff; the report stays "queued" and the ticket
shows the last error); a 4xx with Open311 errors, "refused" with the remote's words, and a
PermanentDeliveryError (the message ends there; a manager fixes the mapping and resends).
When the outbox's last attempt fails (the message dies), the forward is "refused" too, with
words saying so: a manager's resend follows its token again if it has one (never a second
POST), else POSTs again under the same Idempotency-Key, as a retry would.
"""

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from tellcity.categories.models import Category
from tellcity.core.db import utcnow
from tellcity.core.text import public_text
from tellcity.departments.models import Delivery, Department
from tellcity.extensions import db
from tellcity.notify.delivery import DeliveryError, PermanentDeliveryError, is_last_attempt
from tellcity.notify.models import OutboxMessage
from tellcity.notify.services import absolute_url
from tellcity.open311.client import remote
from tellcity.open311.client.models import (
    REPORT_FIELDS,
    Open311Mapping,
    RemoteRequest,
    RemoteState,
)
from tellcity.open311.client.services import remote_request
from tellcity.photos.queries import first_public_photo
from tellcity.reports.models import Report


def send(message: OutboxMessage) -> None:
    """Deliver one Open311 forward (see the module's docstring). Writes the RemoteRequest's
    new state in the worker's session, which records the message's outcome and commits;
    nothing is written before the remote has answered (no lock held over the network)."""
    payload = message.payload or {}
    report = db.session.get(Report, payload.get("report_id"))
    department = db.session.get(Department, payload.get("department_id"))
    if report is None or department is None:
        raise PermanentDeliveryError("the report or the department is gone")
    try:
        _send(message, report, department)
    except PermanentDeliveryError:
        raise
    except DeliveryError as error:
        if is_last_attempt(message):
            row = _row(remote_request(report.id, department.id), report, department)
            _give_up(row, department, str(error))
        raise


def _send(message: OutboxMessage, report: Report, department: Department) -> None:
    row = remote_request(report.id, department.id)
    if row is not None and row.service_request_id:
        return  # delivered before: never twice
    if not _still_for(report, department):
        _stop(_row(row, report, department), department)
        return  # nothing to send: the ticket says why
    if row is not None and row.token:  # made there: never POSTed again
        row.state = RemoteState.TOKEN
        _follow_token(row, department)
        return
    fields = request_fields(report, department)
    if isinstance(fields, str):  # nothing mapped: refused here, before any call
        _refuse(_row(row, report, department), fields)
    address = remote.url(department.open311_endpoint, "requests.json")
    headers = {"Idempotency-Key": message.message_id, "User-Agent": "TellCity-Open311/1"}
    try:
        answer = remote.post_form(address, fields, headers)
    except remote.RemoteRefused as error:
        _refuse(_row(row, report, department), error.words or str(error))
    except remote.RemoteError as error:
        if row is not None:
            row.last_error = str(error)
        raise DeliveryError(f"Open311: {error}") from error
    row = _row(row, report, department)
    now = utcnow()
    row.sent_at = row.sent_at or now
    row.last_sync_at = now
    found = _first(answer)
    if found.get("service_request_id"):
        _opened(row, str(found["service_request_id"]), now)
    elif found.get("token"):
        row.state = RemoteState.TOKEN
        row.token = str(found["token"])
        row.last_error = None
        _follow_token(row, department)
    else:
        with force_locale(_locale(department)):
            row.last_error = _("The remote answered neither an id nor a token.")
        raise DeliveryError(f"Open311: no service_request_id nor token in {answer!r:.200}")


def request_fields(report: Report, department: Department) -> list[tuple[str, str]] | str:
    """The form of requests.json for `report`, or why there is none (no mapping)."""
    mapping = _mapping(department, report.category_id)
    if mapping is None:
        category = db.session.get(Category, report.category_id)
        with force_locale(_locale(department)):
            return _(
                "No Open311 service is mapped to the category %(category)s: map it in the"
                " department's Open311 page, then send the ticket again.",
                category=category.code,
            )
    text = public_text(report)
    fields = [("api_key", department.open311_api_key or "")]
    if department.open311_jurisdiction:
        fields.append(("jurisdiction_id", department.open311_jurisdiction))
    fields.append(("service_code", mapping.service_code))
    if report.lat is not None and report.lon is not None:
        fields += [("lat", f"{report.lat:.6f}"), ("long", f"{report.lon:.6f}")]
    if text.address:
        fields.append(("address_string", text.address))
    fields.append(("description", text.description or report.reference))
    fields.append(("media_url", _media_url(report)))
    answers = report.attributes or {}
    for code, question in sorted((mapping.attributes or {}).items()):
        value = (
            _report_field(report, question) if question in REPORT_FIELDS else answers.get(question)
        )
        if value is None or value == "" or value == []:
            continue
        if isinstance(value, list):
            fields += [(f"attribute[{code}][]", str(item)) for item in value]
        else:
            fields.append((f"attribute[{code}]", str(value)))
    return [(name, value) for name, value in fields if value is not None]


def _report_field(report: Report, field: str) -> str:
    """One of REPORT_FIELDS: the report's reference, or the address of its public page."""
    if field == "report:url":
        return absolute_url(f"/reports/{report.reference}")
    return report.reference


def _media_url(report: Report) -> str | None:
    """The absolute address of the report's first photo the public may see (Open311 takes one
    URL), on the site's public address: the worker has no request to build it from."""
    photo = first_public_photo(report.id)
    if photo is None:
        return None
    path = current_app.url_map.bind("").build("photos.image", {"key": photo.storage_key})
    return absolute_url(path)


def _mapping(department: Department, category_id: int) -> Open311Mapping | None:
    return db.session.scalar(
        sa.select(Open311Mapping).where(
            Open311Mapping.department_id == department.id,
            Open311Mapping.category_id == category_id,
        )
    )


def _follow_token(row: RemoteRequest, department: Department) -> None:
    """Ask tokens/{token}.json for the id the remote gave the request. Raises DeliveryError
    while it has none yet; a token the remote does not know (4xx) is refused, with its words,
    for staff to look at and resend."""
    address = remote.url(
        department.open311_endpoint,
        f"tokens/{remote.quote(row.token)}.json",
        jurisdiction_id=department.open311_jurisdiction,
    )
    now = utcnow()
    try:
        answer = remote.get_json(address)
    except remote.RemoteRefused as error:
        with force_locale(_locale(department)):
            words = _(
                "The remote no longer knows the token %(token)s (%(words)s): the request may"
                " not have been made there. Check its system, then send the ticket again.",
                token=row.token,
                words=error.words or str(error),
            )
        row.token = None  # a resend POSTs again (its words keep the token)
        _refuse(row, words)
    except remote.RemoteError as error:
        row.last_error = str(error)
        raise DeliveryError(f"Open311 token {row.token}: {error}") from error
    row.last_sync_at = now
    found = _first(answer)
    if found.get("service_request_id"):
        _opened(row, str(found["service_request_id"]), now)
        return
    row.last_error = None
    raise DeliveryError(f"Open311: waiting for the id of token {row.token}")


def _still_for(report: Report, department: Department) -> bool:
    """Whether the report is still the department's (or referred to it), and the department
    still takes reports by Open311."""
    if report.department_id != department.id and report.referred_to_id != department.id:
        return False
    return department.delivery_method == Delivery.OPEN311 and bool(department.open311_endpoint)


def _stop(row: RemoteRequest, department: Department) -> None:
    row.state = RemoteState.STOPPED
    with force_locale(_locale(department)):
        row.last_error = _(
            "Not sent: the report left %(name)s, or it no longer takes reports by Open311,"
            " before it was sent.",
            name=department.name,
        )


def _locale(department: Department) -> str:
    """The language of what the worker writes for the department's staff: its city's."""
    return (department.city.locale or "fr")[:2]


def _opened(row: RemoteRequest, service_request_id: str, now) -> None:
    row.state = RemoteState.OPEN
    row.service_request_id = service_request_id
    row.last_error = None
    row.next_sync_at = now


def _give_up(row: RemoteRequest, department: Department, error: str) -> None:
    """The outbox's last attempt failed: "refused", for staff to see and resend, with words
    saying what a resend does (follow the token again, or POST again)."""
    with force_locale(_locale(department)):
        if row.token:
            row.last_error = _(
                "The remote gave the token %(token)s but still no id at the last attempt: the"
                " request is probably made there. Resend follows the token again; it is not"
                " sent twice.",
                token=row.token,
            )
        else:
            row.last_error = _(
                "Not sent by the last attempt (%(error)s). Send it again once the remote"
                " system answers.",
                error=row.last_error or error,
            )
    row.state = RemoteState.REFUSED


def _refuse(row: RemoteRequest, words: str):
    row.state = RemoteState.REFUSED
    row.last_error = words
    row.last_sync_at = utcnow()
    raise PermanentDeliveryError(f"Open311 refused: {words}")


def _row(row: RemoteRequest | None, report: Report, department: Department) -> RemoteRequest:
    """The report's RemoteRequest at `department`, made when a message queued before it had
    none."""
    if row is None:
        row = RemoteRequest(report_id=report.id, department_id=department.id)
        db.session.add(row)
    return row


def _first(answer) -> dict:
    """The first item of an Open311 answer (a list of one), or the answer itself."""
    if isinstance(answer, list):
        answer = answer[0] if answer else {}
    return answer if isinstance(answer, dict) else {}
