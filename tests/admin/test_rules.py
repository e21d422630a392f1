"""Routing rules through the admin pages: the tester says where a report would go and saves
nothing; rules are added, moved among those for the same category and zone, and deleted."""

import sqlalchemy as sa

from tellcity.audit.models import AuditEntry
from tellcity.extensions import db
from tellcity.reports.models import Report
from tellcity.routing.models import RoutingRule
from tests.admin.helpers import audit, fresh, post, zone
from tests.reports.helpers import EIFFEL_TOWER, ILE_SAINT_GERMAIN, TOWN_HALL, category, department
from tests.web.helpers import text


def try_point(client, city, code: str, at: tuple[float, float]) -> str:
    lat, lon = at
    url = f"/staff/admin/rules/test?category_id={category(city, code).id}&lat={lat}&lon={lon}"
    response = client.get(url)
    assert response.status_code == 200
    return text(response)


def test_the_tester_follows_a_zone_rule_and_saves_nothing(client, login_as, demo_city):
    login_as("admin")
    rules_before = db.session.scalar(sa.select(sa.func.count()).select_from(RoutingRule))
    page = try_point(client, demo_city, "illegal-dumping", ILE_SAINT_GERMAIN)
    rule = db.session.scalar(
        sa.select(RoutingRule).where(RoutingRule.zone_id == zone(demo_city, "val-de-seine").id)
    )
    assert "<dt>Department</dt><dd>Parcs, jardins et espaces verts</dd>" in page
    assert "<dt>Zone</dt><dd>Val de Seine (secteur de démo)</dd>" in page
    assert f"<dt>Rule</dt><dd>#{rule.id}</dd>" in page
    assert f"rule #{rule.id}: Fly-tipping in Val de Seine" in page  # names, not codes
    assert "Nothing was saved." in page
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RoutingRule)) == rules_before
    assert db.session.query(Report).count() == db.session.query(AuditEntry).count() == 0


def test_the_tester_says_when_the_default_department_decides(client, login_as, demo_city):
    login_as("admin")
    page = try_point(client, demo_city, "illegal-dumping", TOWN_HALL)
    assert "<dt>Department</dt><dd>Propreté urbaine</dd>" in page
    assert "default department of Fly-tipping" in page


def test_the_tester_asks_for_a_position(client, login_as, demo_city):
    login_as("admin")
    dumping = category(demo_city, "illegal-dumping")
    response = client.get(f"/staff/admin/rules/test?category_id={dumping.id}&lat=&lon=2.25")
    assert response.status_code == 422 and "This field is required." in text(response)


def test_the_tester_says_when_a_point_is_outside_the_city(client, login_as, demo_city):
    login_as("admin")
    dumping = category(demo_city, "illegal-dumping")
    lat, lon = EIFFEL_TOWER
    response = client.get(f"/staff/admin/rules/test?category_id={dumping.id}&lat={lat}&lon={lon}")
    assert response.status_code == 422
    assert "This point is outside the city limits: a report there is refused." in text(response)


def test_a_new_rule_is_recorded_and_routes_at_once(client, login_as, demo_city):
    login_as("admin")
    pothole, centre = category(demo_city, "pothole"), zone(demo_city, "centre-ville")
    batiments = department(demo_city, "batiments")
    data = {"category_id": pothole.id, "zone_id": centre.id, "department_id": batiments.id}
    assert post(client, "/staff/admin/rules/new", data).status_code == 302
    rule = db.session.scalar(sa.select(RoutingRule).where(RoutingRule.category_id == pothole.id))
    assert (rule.zone_id, rule.department_id, rule.position) == (centre.id, batiments.id, 0)
    [entry] = audit("routing_rules", rule.id)
    assert entry.action == "create" and entry.after["department_id"] == batiments.id
    page = try_point(client, demo_city, "pothole", TOWN_HALL)
    assert "<dt>Department</dt><dd>Bâtiments communaux</dd>" in page


def test_moving_a_rule_up_makes_it_win(client, login_as, demo_city):
    login_as("admin")
    noise = category(demo_city, "noise")
    [first] = db.session.scalars(sa.select(RoutingRule).where(RoutingRule.category_id == noise.id))
    batiments = department(demo_city, "batiments")
    data = {"category_id": noise.id, "zone_id": "", "department_id": batiments.id}
    post(client, "/staff/admin/rules/new", data)
    second = db.session.scalar(
        sa.select(RoutingRule).where(
            RoutingRule.category_id == noise.id, RoutingRule.id != first.id
        )
    )
    assert (second.department_id, first.position, second.position) == (batiments.id, 2, 3)
    first_id, second_id = first.id, second.id
    page = text(client.get("/staff/admin/rules"))
    assert "Never applies: the rule above wins." in page
    assert "Police municipale" in try_point(client, demo_city, "noise", TOWN_HALL).split("Rule")[0]

    response = post(client, f"/staff/admin/rules/{second_id}/move", {"direction": "up"})
    assert response.status_code == 302
    assert (fresh(RoutingRule, second_id).position, fresh(RoutingRule, first_id).position) == (
        0,
        1,
    )
    assert "Bâtiments communaux" in try_point(client, demo_city, "noise", TOWN_HALL)
    moves = audit("routing_rules", action="update")
    assert {(e.entity_id, e.before["position"], e.after["position"]) for e in moves} == {
        (second_id, 3, 0),
        (first_id, 2, 1),
    }
    post(client, f"/staff/admin/rules/{second_id}/move", {"direction": "up"})
    assert fresh(RoutingRule, second_id).position == 0  # already first: refused, unchanged


def test_a_rule_is_deleted(client, login_as, demo_city):
    login_as("admin")
    noise = category(demo_city, "noise")
    [rule] = db.session.scalars(sa.select(RoutingRule).where(RoutingRule.category_id == noise.id))
    rule_id = rule.id
    assert post(client, f"/staff/admin/rules/{rule_id}/delete").status_code == 302
    assert fresh(RoutingRule, rule_id) is None
    [entry] = audit("routing_rules", rule_id)
    assert entry.action == "delete" and entry.before["category_id"] == noise.id
    assert "Allô Mairie" in try_point(client, demo_city, "noise", TOWN_HALL)
