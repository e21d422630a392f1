"""Categories through the admin pages: administrators create, edit and delete them; the
managers of a category's department change its service settings and nothing else."""

import json

import pytest

from tellcity.audit.models import AuditEntry
from tellcity.categories.models import Category
from tellcity.extensions import db
from tellcity.routing.models import RoutingRule
from tests.admin.helpers import audit, flashes, fresh, post
from tests.reports.helpers import category, department, submit
from tests.web.helpers import text

QUESTIONS = [
    {
        "code": "depth",
        "datatype": "singlevaluelist",
        "description": "How deep?",
        "values": [{"key": "shallow", "name": "Shallow"}, {"key": "deep", "name": "Deep"}],
    },
    {"code": "lane", "datatype": "string", "required": True, "description": "Which lane?"},
]


def new_category(demo_city, **changes) -> dict:
    data = {
        "kind": "problem",
        "code": "sinkhole",
        "name_fr": "Affaissement",
        "name_en": "Sinkhole",
        "description_fr": "Le sol s'est effondré.",
        "description_en": "The ground has given way.",
        "group_fr": "Voirie et trottoirs",
        "group_en": "Roads and pavements",
        "keywords": "trou, effondrement",
        "department_id": str(department(demo_city, "voirie").id),
        "sla_hours": "8",
        "default_priority": "1",
        "is_active": "y",
        "attributes": json.dumps(QUESTIONS),
    }
    return {**data, **changes}


@pytest.fixture
def admin(client, login_as, demo_city):
    return login_as("admin")


def test_an_administrator_creates_a_category_with_extra_questions(client, admin, demo_city):
    response = post(client, "/staff/admin/categories/new", new_category(demo_city))
    assert response.status_code == 302
    created = category(demo_city, "sinkhole")
    assert (created.name_en, created.sla_hours, created.default_priority) == ("Sinkhole", 8, 1)
    assert created.department.slug == "voirie" and created.is_active
    assert created.attributes == [
        {**QUESTIONS[0], "required": False, "order": 1},
        {**QUESTIONS[1], "order": 2},
    ]
    [entry] = audit("categories", created.id)
    assert entry.action == "create" and entry.after["code"] == "sinkhole"
    assert entry.after["attributes"] == created.attributes
    assert "Sinkhole" in text(client.get("/staff/admin/categories"))


def test_an_open311_code_is_unique_in_the_city(client, admin, demo_city):
    response = post(client, "/staff/admin/categories/new", new_category(demo_city, code="pothole"))
    assert response.status_code == 422
    assert "Pothole, damaged road already has the code pothole." in text(response)
    assert audit("categories") == []


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ("[{", "Not valid JSON: Expecting property name enclosed in double quotes"),
        ('{"code": "x"}', "Write a list of questions: [{...}, {...}]."),
        (
            '[{"code": "size", "datatype": "colour", "description": "?"}]',
            "Question 1 (size): datatype must be one of string, number, datetime, text,",
        ),
        (
            '[{"code": "size", "datatype": "singlevaluelist", "description": "Size?"}]',
            "Question 1 (size): a list question needs values",
        ),
        (
            '[{"code": "a", "datatype": "string", "description": "A"}, {"code": "b"}]',
            "Question 2 (b): datatype must be one of",
        ),
        (
            '[{"code": "a", "datatype": "text", "description": "A", "colour": "red"}]',
            "Question 1 (a): unknown key colour",
        ),
        ('[{"code": "a", "datatype": "text"}]', "Question 1 (a): give a description (text)."),
    ],
)
def test_extra_questions_of_the_wrong_shape_are_refused_clearly(
    client, admin, demo_city, attributes, message
):
    data = new_category(demo_city, attributes=attributes)
    response = post(client, "/staff/admin/categories/new", data)
    assert response.status_code == 422
    assert message in text(response).replace("&#34;", '"').replace("&#39;", "'")
    assert category(demo_city, "sinkhole") is None


def test_an_administrator_edits_everything_and_the_change_is_recorded(client, admin, demo_city):
    pothole = category(demo_city, "pothole")
    data = new_category(demo_city, code="pothole", name_en="Pothole", sla_hours="24")
    response = post(client, f"/staff/admin/categories/{pothole.id}", data)
    assert response.status_code == 302
    pothole = fresh(Category, pothole.id)
    assert (pothole.name_en, pothole.sla_hours, pothole.default_priority) == ("Pothole", 24, 1)
    [entry] = audit("categories", pothole.id, "update")
    assert (entry.before["sla_hours"], entry.after["sla_hours"]) == (40, 24)
    assert (entry.before["name_en"], entry.after["name_en"]) == ("Pothole, damaged road", "Pothole")


def test_a_manager_changes_the_service_settings_of_their_categories_only(
    client, login_as, demo_city
):
    manager = login_as("chef.voirie")
    pothole = category(demo_city, "pothole")
    page = text(client.get(f"/staff/admin/categories/{pothole.id}"))
    assert 'name="sla_hours"' in page and 'name="name_en"' not in page
    data = new_category(demo_city, code="hijacked", name_en="Hijacked", sla_hours="12")
    response = post(client, f"/staff/admin/categories/{pothole.id}", data)
    assert response.status_code == 302
    pothole = fresh(Category, pothole.id)
    assert (pothole.sla_hours, pothole.default_priority, len(pothole.attributes)) == (12, 1, 2)
    assert (pothole.code, pothole.name_en) == ("pothole", "Pothole, damaged road")
    [entry] = audit("categories", pothole.id)
    assert entry.actor_id == manager.id and entry.after["sla_hours"] == 12

    listed = text(client.get("/staff/admin/categories"))
    assert "Pothole, damaged road" in listed and "Fly-tipping" not in listed
    dumping = category(demo_city, "illegal-dumping")
    assert client.get(f"/staff/admin/categories/{dumping.id}").status_code == 403
    response = post(client, f"/staff/admin/categories/{dumping.id}", {"sla_hours": "1"})
    assert response.status_code == 403
    assert fresh(Category, dumping.id).sla_hours == 16


def test_a_category_without_reports_is_deleted_with_its_rules(client, admin, demo_city):
    dumping = category(demo_city, "illegal-dumping")
    dumping_id = dumping.id
    [rule_id] = [rule.id for rule in db.session.query(RoutingRule).filter_by(category=dumping)]
    response = post(client, f"/staff/admin/categories/{dumping_id}/delete")
    assert response.status_code == 302
    assert fresh(Category, dumping_id) is None and fresh(RoutingRule, rule_id) is None
    assert [e.action for e in audit("routing_rules", rule_id)] == ["delete"]
    [entry] = audit("categories", dumping_id)
    assert entry.action == "delete" and entry.before["code"] == "illegal-dumping"


def test_the_kind_of_a_category_in_use_stays(client, admin, demo_city):
    submit(demo_city, "pothole")
    db.session.commit()
    pothole = category(demo_city, "pothole")
    data = new_category(demo_city, code="pothole", kind="suggestion")
    response = post(client, f"/staff/admin/categories/{pothole.id}", data)
    assert response.status_code == 422
    assert "Reports already use this category: its kind cannot change." in text(response)
    assert fresh(Category, pothole.id).kind == "problem"


def test_a_category_with_reports_is_kept(client, admin, demo_city):
    submit(demo_city, "pothole")
    db.session.commit()
    pothole = category(demo_city, "pothole")
    post(client, f"/staff/admin/categories/{pothole.id}/delete")
    assert flashes(client) == ["1 report(s) use this category: make it inactive instead."]
    assert fresh(Category, pothole.id) is not None
    assert db.session.query(AuditEntry).count() == 0
