"""Reply templates through the admin pages: administrators manage the city's, a manager only
their department's, which they can neither see nor touch in another department."""

import pytest
import sqlalchemy as sa

from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.staff import reply_templates
from tellcity.staff.models import ReplyTemplate
from tests.admin.helpers import audit, fresh, post
from tests.reports.helpers import category, department
from tests.web.helpers import text

BODY = "Le signalement {reference} est traité par {department}."


@pytest.fixture
def templates(demo_city):
    """A template of the road works department (voirie) and one of cleanliness (proprete)."""
    road = ReplyTemplate(
        city_id=demo_city.id,
        department=department(demo_city, "voirie"),
        title="Trou rebouché",
        body=BODY,
        status="resolved",
    )
    bins = ReplyTemplate(
        city_id=demo_city.id,
        department=department(demo_city, "proprete"),
        title="Corbeille vidée",
        body=BODY,
        status="resolved",
    )
    db.session.add_all([road, bins])
    db.session.commit()
    return road.id, bins.id


def by_title(title: str) -> ReplyTemplate:
    db.session.expire_all()
    return db.session.scalar(sa.select(ReplyTemplate).where(ReplyTemplate.title == title))


def test_an_administrator_writes_a_template_for_every_department(client, login_as, demo_city):
    login_as("admin")
    page = text(client.get("/staff/admin/reply-templates/new"))
    for placeholder in (
        "{reference}",
        "{category}",
        "{address}",
        "{due_date}",
        "{department}",
        "{city}",
    ):
        assert placeholder in page
    pothole = category(demo_city, "pothole")
    data = {
        "title": "Merci",
        "body": BODY,
        "department_id": "",
        "category_id": pothole.id,
        "status": "acknowledged",
        "is_active": "y",
    }
    assert post(client, "/staff/admin/reply-templates/new", data).status_code == 302
    template = by_title("Merci")
    assert (template.department_id, template.category_id, template.status) == (
        None,
        pothole.id,
        "acknowledged",
    )
    [entry] = audit("reply_templates", template.id)
    assert entry.action == "create" and entry.after["body"] == BODY


def test_a_managers_template_is_for_their_department(client, login_as, demo_city):
    manager = login_as("chef.voirie")
    proprete = department(demo_city, "proprete")
    data = {"title": "Chantier", "body": BODY, "status": "", "is_active": "y"}
    response = post(
        client, "/staff/admin/reply-templates/new", {**data, "department_id": proprete.id}
    )
    assert response.status_code == 422 and "Not a valid choice" in text(response)
    assert by_title("Chantier") is None
    data["department_id"] = manager.department_id
    assert post(client, "/staff/admin/reply-templates/new", data).status_code == 302
    template = by_title("Chantier")
    assert template.department_id == manager.department_id and template.status is None
    assert audit("reply_templates", template.id)[0].actor_id == manager.id


def test_the_service_puts_a_managers_template_in_their_department(demo_city, staff):
    manager = staff["chef.voirie"]
    values = {
        "title": "T",
        "body": "B",
        "department_id": department(demo_city, "proprete").id,
        "category_id": None,
        "status": None,
        "is_active": True,
    }
    template = reply_templates.create_reply_template(demo_city, values, actor=Actor.of(manager))
    assert template.department_id == manager.department_id


def test_a_manager_sees_and_changes_only_their_departments_templates(client, login_as, templates):
    login_as("chef.voirie")
    road_id, bins_id = templates
    page = text(client.get("/staff/admin/reply-templates"))
    assert "Trou rebouché" in page and "Corbeille vidée" not in page
    assert client.get(f"/staff/admin/reply-templates/{bins_id}").status_code == 403
    data = {"title": "Pris", "body": "x", "status": "", "is_active": "y"}
    assert post(client, f"/staff/admin/reply-templates/{bins_id}", data).status_code == 403
    assert post(client, f"/staff/admin/reply-templates/{bins_id}/delete").status_code == 403
    assert fresh(ReplyTemplate, bins_id).title == "Corbeille vidée"

    data = {"title": "Trou comblé", "body": BODY, "status": "resolved", "is_active": ""}
    assert post(client, f"/staff/admin/reply-templates/{road_id}", data).status_code == 302
    road = fresh(ReplyTemplate, road_id)
    assert (road.title, road.is_active) == ("Trou comblé", False)
    [entry] = audit("reply_templates", road_id)
    assert (entry.before["title"], entry.after["title"]) == ("Trou rebouché", "Trou comblé")
    assert (entry.before["is_active"], entry.after["is_active"]) == (True, False)

    assert post(client, f"/staff/admin/reply-templates/{road_id}/delete").status_code == 302
    assert fresh(ReplyTemplate, road_id) is None
    assert audit("reply_templates", road_id)[-1].action == "delete"


def test_a_template_needs_a_title_and_a_text(client, login_as, demo_city):
    login_as("admin")
    data = {"title": "", "body": " ", "department_id": "", "category_id": "", "status": ""}
    response = post(client, "/staff/admin/reply-templates/new", data)
    assert response.status_code == 422 and "This field is required." in text(response)
    assert db.session.query(ReplyTemplate).count() == 0
