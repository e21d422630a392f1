"""Connecting a department of our demo city to a remote Open311 system through the admin pages,
as its administrator would, and running the worker's deliveries (tests of the sending side)."""

from datetime import timedelta

import sqlalchemy as sa

from tellcity.categories.models import Category
from tellcity.core.db import utcnow
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.notify.models import OutboxMessage
from tellcity.notify.worker import deliver_due
from tellcity.open311.client.models import RemoteRequest
from tellcity.reports.models import Report
from tests.admin.helpers import post
from tests.reports.helpers import category, department

#: What the stand-in lists: a pothole service asking its own attribute "taille".
POTHOLE_SERVICE = {
    "service_code": "NDP",
    "service_name": "Nid de poule",
    "metadata": True,
    "type": "realtime",
    "keywords": "",
    "group": "Voirie",
    "description": "",
}
POTHOLE_DEFINITION = {
    "service_code": "NDP",
    "attributes": [
        {
            "variable": True,
            "code": "taille",
            "datatype": "singlevaluelist",
            "required": False,
            "order": 1,
            "description": "Taille",
            "values": [{"key": "large", "name": "Grand"}],
        }
    ],
}


def connect(client, city, endpoint: str, api_key: str, jurisdiction: str = "", slug="voirie"):
    """Set the department `slug` to deliver by Open311 through its admin form (an
    administrator signed in on `client`); returns it."""
    road = department(city, slug)
    answer = post(
        client,
        f"/staff/admin/departments/{road.id}",
        {
            "name": road.name,
            "email": road.email or "",
            "delivery_method": "open311",
            "open311_endpoint": endpoint,
            "open311_api_key": api_key,
            "open311_jurisdiction": jurisdiction,
            "escalation_email": "",
        },
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return fresh_department(road.id)


def fetch_services(client, road: Department):
    return post(client, f"/staff/admin/departments/{road.id}/open311/fetch")


def map_category(client, road: Department, code: str, service_code: str, attributes=None):
    """Map our category `code` to `service_code` through the mapping form: the service first,
    then (its attributes offered) the attributes, as a person would in two saves."""
    ours = category(road.city, code)
    url = f"/staff/admin/departments/{road.id}/open311"
    answer = post(client, url, {f"service-{ours.id}": service_code})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    if attributes:
        fields = {f"attr-{ours.id}-{theirs}": mine for theirs, mine in attributes.items()}
        answer = post(client, url, {f"service-{ours.id}": service_code, **fields})
        assert answer.status_code == 302, answer.get_data(as_text=True)
    return answer


def fresh_department(department_id: int) -> Department:
    db.session.expire_all()
    return db.session.get(Department, department_id)


def deliver(later: timedelta = timedelta(0)):
    """One pass of the worker's deliveries, at the clock `later` from now (past any backoff)."""
    counts = deliver_due(now=utcnow() + later)
    db.session.expire_all()
    return counts


def remote_row(report: Report) -> RemoteRequest:
    db.session.expire_all()
    return db.session.scalar(sa.select(RemoteRequest).where(RemoteRequest.report_id == report.id))


def open311_message(report: Report) -> OutboxMessage:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(OutboxMessage).where(
            OutboxMessage.report_id == report.id, OutboxMessage.channel == "open311"
        )
    )


def remote_reports(remote) -> list[tuple[str, str, dict | None]]:
    """(reference, category code, attributes) of each report the remote instance holds."""
    with remote.app.app_context():
        rows = db.session.execute(
            sa.select(Report.reference, Category.code, Report.attributes)
            .join(Category, Category.id == Report.category_id)
            .order_by(Report.id)
        ).all()
        return [tuple(row) for row in rows]
