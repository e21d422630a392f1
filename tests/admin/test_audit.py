"""The audit log page: who changed what, with the values before and after, by kind of row."""

from tests.admin.helpers import post
from tests.reports.helpers import category
from tests.web.helpers import text


def test_the_log_shows_who_changed_what(client, login_as, demo_city):
    manager = login_as("chef.voirie")
    pothole = category(demo_city, "pothole")
    data = {
        "sla_hours": "30",
        "default_priority": "2",
        "attributes": "[]",
        "description_fr": pothole.description_fr,
        "description_en": pothole.description_en,
    }
    assert post(client, f"/staff/admin/categories/{pothole.id}", data).status_code == 302
    login_as("admin")
    page = text(client.get("/staff/admin/audit"))
    assert manager.name in page and f"categories #{pothole.id}" in page
    assert "<del>40</del>" in page and "<ins>30</ins>" in page
    assert '<th scope="row">attributes</th>' in page
    page = text(client.get("/staff/admin/audit?entity=zones"))
    assert "Nothing changed yet." in page
    page = text(client.get(f"/staff/admin/audit?entity=categories&id={pothole.id}"))
    assert "<del>40</del>" in page
