"""Each server process keeps the rows submissions are routed by (tellcity.routing.configuration):
an administrator's change to a rule, a category or a department decides the very next
submission in the same process, and a change that was rolled back never decides one."""

import pytest
import sqlalchemy as sa

from tellcity.extensions import db
from tellcity.notify.models import OutboxMessage
from tellcity.reports.models import Report
from tellcity.routing.models import RoutingRule
from tellcity.routing.services import route
from tests.admin.helpers import post, zone
from tests.admin.test_categories import new_category
from tests.reports.helpers import TOWN_HALL, category, department

REPORT = {
    "category": "pothole",
    "lat": TOWN_HALL[0],
    "lon": TOWN_HALL[1],
    "description": "Trou dans la chaussée devant la mairie",
    "email": "zoe@example.org",
}


def submitted_to(client, **changes) -> str:
    """The name of the department the API says a new report went to."""
    response = client.post("/api/v1/reports", json={**REPORT, **changes})
    assert response.status_code == 201, response.json
    return response.json["department"]


@pytest.fixture
def admin(client, login_as, demo_city):
    return login_as("admin")


def test_a_new_rule_routes_the_next_submission(client, admin, demo_city):
    assert submitted_to(client) == "Voirie et travaux"
    data = {
        "category_id": category(demo_city, "pothole").id,
        "zone_id": zone(demo_city, "centre-ville").id,
        "department_id": department(demo_city, "batiments").id,
    }
    assert post(client, "/staff/admin/rules/new", data).status_code == 302
    assert submitted_to(client) == "Bâtiments communaux"


def test_a_deleted_rule_routes_no_more(client, admin, demo_city):
    noise = category(demo_city, "noise")
    assert submitted_to(client, category="noise") == "Police municipale et stationnement"
    rule_id = db.session.scalar(
        sa.select(RoutingRule.id).where(RoutingRule.category_id == noise.id)
    )
    assert post(client, f"/staff/admin/rules/{rule_id}/delete").status_code == 302
    assert submitted_to(client, category="noise") == "Allô Mairie — accueil et orientation"


def test_a_deactivated_category_takes_no_more_reports(client, admin, demo_city):
    assert submitted_to(client) == "Voirie et travaux"
    data = new_category(demo_city, code="pothole")
    del data["is_active"]  # the box unticked
    response = post(client, f"/staff/admin/categories/{category(demo_city, 'pothole').id}", data)
    assert response.status_code == 302
    response = client.post("/api/v1/reports", json=REPORT)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "unknown_category"


def test_a_department_edit_decides_where_the_next_notification_goes(client, admin, demo_city):
    voirie = department(demo_city, "voirie")
    data = {"name": voirie.name, "email": "routes@issy.example.org", "delivery_method": "email"}
    submitted_to(client)
    assert post(client, f"/staff/admin/departments/{voirie.id}", data).status_code == 302
    reference = client.post("/api/v1/reports", json=REPORT).json["reference"]
    db.session.expire_all()
    report_id = db.session.scalar(sa.select(Report.id).where(Report.reference == reference))
    recipients = db.session.scalars(
        sa.select(OutboxMessage.recipient)
        .where(OutboxMessage.report_id == report_id)
        .order_by(OutboxMessage.id)
    ).all()
    assert recipients == ["routes@issy.example.org", "zoe@example.org"]  # and the acknowledgement


def test_a_rolled_back_change_never_routes_a_submission(client, demo_city):
    pothole, centre = category(demo_city, "pothole"), zone(demo_city, "centre-ville")
    batiments = department(demo_city, "batiments")
    db.session.add(RoutingRule(city=demo_city, category=pothole, zone=centre, department=batiments))
    assert route(demo_city, pothole, *TOWN_HALL).department.slug == "batiments"
    db.session.rollback()
    # Another change, committed, brings the city to the version the rolled-back one reached.
    noise = category(demo_city, "noise")
    db.session.add(RoutingRule(city=demo_city, category=noise, zone=centre, department=batiments))
    db.session.commit()
    assert submitted_to(client) == "Voirie et travaux"
    assert submitted_to(client, category="noise") == "Bâtiments communaux"
