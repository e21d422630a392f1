"""Departments through the admin pages: create, edit, the webhook secret shown once, the one
triage desk, deletion refused while anything depends on the department."""

import pytest

from tellcity.audit.models import AuditEntry
from tellcity.departments.models import Department
from tellcity.extensions import db
from tests.admin.helpers import audit, flashes, fresh, post, secret_on
from tests.factories import make_department
from tests.reports.helpers import department
from tests.web.helpers import text

NEW = {
    "name": "Propreté des berges",
    "email": "berges@issy.example.org",
    "delivery_method": "email",
}


@pytest.fixture
def admin(client, login_as, demo_city):
    return login_as("admin")


def test_an_administrator_creates_a_department(client, admin, demo_city):
    response = post(client, "/staff/admin/departments/new", NEW)
    assert response.status_code == 302
    created = db.session.query(Department).filter_by(name=NEW["name"]).one()
    assert (created.slug, created.email, created.delivery_method) == (
        "proprete-des-berges",
        "berges@issy.example.org",
        "email",
    )
    [entry] = audit("departments", created.id)
    assert (entry.action, entry.actor_id, entry.before) == ("create", admin.id, None)
    assert entry.after["name"] == NEW["name"] and entry.city_id == demo_city.id


def test_webhook_delivery_makes_a_secret_shown_once(client, admin, demo_city):
    data = {**NEW, "delivery_method": "webhook", "webhook_url": "https://hooks.example.org/in"}
    response = post(client, "/staff/admin/departments/new", data)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    secret = secret_on(response, "Secret")
    created = db.session.query(Department).filter_by(name=NEW["name"]).one()
    assert created.webhook_secret == secret
    [entry] = audit("departments", created.id)
    assert "webhook_secret" not in entry.after and secret not in str(entry.after)
    page = text(client.get(f"/staff/admin/departments/{created.id}"))
    assert secret not in page and "Make a new webhook secret" in page

    response = post(client, f"/staff/admin/departments/{created.id}", {**data, "new_secret": "y"})
    new = secret_on(response, "Secret")
    assert new != secret and fresh(Department, created.id).webhook_secret == new


def test_an_edit_is_recorded_with_the_values_before_and_after(client, admin, demo_city):
    voirie = department(demo_city, "voirie")
    data = {"name": voirie.name, "email": "routes@issy.example.org", "delivery_method": "dashboard"}
    response = post(client, f"/staff/admin/departments/{voirie.id}", data)
    assert response.status_code == 302
    voirie = fresh(Department, voirie.id)
    assert (voirie.email, voirie.delivery_method) == ("routes@issy.example.org", "dashboard")
    [entry] = audit("departments", voirie.id, "update")
    assert entry.before["email"] == "voirie@issy.example.org"
    assert entry.after["email"] == "routes@issy.example.org"
    assert (entry.before["delivery_method"], entry.after["delivery_method"]) == (
        "email",
        "dashboard",
    )


def test_a_city_has_one_triage_desk_and_the_form_says_so(client, admin, demo_city):
    voirie = department(demo_city, "voirie")
    data = {"name": voirie.name, "email": voirie.email, "delivery_method": "email"}
    response = post(client, f"/staff/admin/departments/{voirie.id}", {**data, "is_triage": "y"})
    assert response.status_code == 422
    page = text(response)
    assert "A city has only one triage desk" in page
    assert "Allô Mairie — accueil et orientation is it: untick it there first." in page
    assert fresh(Department, voirie.id).is_triage is False
    assert audit("departments") == []


def test_email_and_webhook_delivery_need_their_address(client, admin, demo_city):
    response = post(client, "/staff/admin/departments/new", {**NEW, "email": ""})
    assert response.status_code == 422
    assert "Email delivery needs an email address." in text(response)
    response = post(client, "/staff/admin/departments/new", {**NEW, "delivery_method": "webhook"})
    assert "Webhook delivery needs the address to call." in text(response)
    assert db.session.query(Department).filter_by(name=NEW["name"]).count() == 0


def test_a_department_nothing_depends_on_is_deleted(client, admin, demo_city):
    spare = make_department(demo_city, name="Spare")
    db.session.commit()
    spare_id = spare.id
    response = post(client, f"/staff/admin/departments/{spare_id}/delete")
    assert response.status_code == 302
    assert fresh(Department, spare_id) is None
    [entry] = audit("departments", spare_id)
    assert (entry.action, entry.before["name"], entry.after) == ("delete", "Spare", None)


def test_a_department_with_users_or_reports_is_kept(client, admin, demo_city):
    voirie = department(demo_city, "voirie")
    response = post(client, f"/staff/admin/departments/{voirie.id}/delete")
    assert response.status_code == 302
    [message] = flashes(client)
    assert message.startswith("Voirie et travaux cannot be deleted while it has 2 user(s)")
    assert "4 category(ies) by default" in message
    assert fresh(Department, voirie.id) is not None
    assert db.session.query(AuditEntry).count() == 0


def test_the_triage_desk_is_kept(client, admin, demo_city):
    desk = department(demo_city, "accueil")
    post(client, f"/staff/admin/departments/{desk.id}/delete")
    assert flashes(client) == [
        "The triage desk cannot be deleted: make another department the desk."
    ]
    assert fresh(Department, desk.id) is not None
