"""Who reaches which administration page: every admin route, GET and POST, for every kind of
visitor. Administrators reach everything; a department's manager their own categories and
reply templates; nobody else anything. The services refuse on their own too."""

import pytest
import sqlalchemy as sa

from tellcity.accounts import services as accounts
from tellcity.accounts.api_keys import create_api_key
from tellcity.admin.access import CLI
from tellcity.categories import services as categories
from tellcity.core.errors import NotAllowed
from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.notify.models import OutboxMessage
from tellcity.routing import rules
from tellcity.routing.models import RoutingRule
from tellcity.staff import reply_templates
from tellcity.staff.models import ReplyTemplate
from tests.accounts.helpers import enrol
from tests.admin.helpers import csrf, zone
from tests.factories import make_city, make_department, make_user
from tests.reports.helpers import ILE_SAINT_GERMAIN, category, department, submit

MANAGER = "chef.voirie"

#: (method, address under /staff/admin, whether the road works manager may use it). Forms
#: first, then the buttons, deletions last: an administrator's POSTs really happen.
ROUTES = [
    ("GET", "/", True),
    ("GET", "/departments", False),
    ("GET", "/departments/new", False),
    ("GET", "/departments/{department}", False),
    ("GET", "/departments/{department}/open311", False),
    ("GET", "/categories", True),
    ("GET", "/categories/new", False),
    ("GET", "/categories/{own_category}", True),
    ("GET", "/categories/{other_category}", False),
    ("GET", "/zones", False),
    ("GET", "/zones/upload", False),
    ("GET", "/zones/{zone}", False),
    ("GET", "/rules", False),
    ("GET", "/rules/test?{tester}", False),
    ("GET", "/users", False),
    ("GET", "/users/new", False),
    ("GET", "/users/{user}", False),
    ("GET", "/reply-templates", True),
    ("GET", "/reply-templates/new", True),
    ("GET", "/reply-templates/{own_template}", True),
    ("GET", "/reply-templates/{other_template}", False),
    ("GET", "/api-keys", False),
    ("GET", "/api-keys/new", False),
    ("GET", "/audit", False),
    ("GET", "/outbox", False),
    ("GET", "/outbox?show=pending", False),
    ("POST", "/departments/new", False),
    ("POST", "/departments/{department}", False),
    ("POST", "/departments/{department}/open311", False),
    ("POST", "/departments/{department}/open311/fetch", False),
    ("POST", "/categories/new", False),
    ("POST", "/categories/{own_category}", True),
    ("POST", "/categories/{other_category}", False),
    ("POST", "/zones/upload", False),
    ("POST", "/zones/{zone}", False),
    ("POST", "/rules/new", False),
    ("POST", "/rules/{rule}/move", False),
    ("POST", "/users/new", False),
    ("POST", "/users/{user}", False),
    ("POST", "/users/{user}/active", False),
    ("POST", "/users/{user}/two-factor/reset", False),
    ("POST", "/users/two-factor", False),
    ("POST", "/reply-templates/new", True),
    ("POST", "/reply-templates/{own_template}", True),
    ("POST", "/reply-templates/{other_template}", False),
    ("POST", "/api-keys/new", False),
    ("POST", "/api-keys/{key}/revoke", False),
    ("POST", "/outbox/{message}/retry", False),
    ("POST", "/outbox/{message}/drop", False),
    ("POST", "/reply-templates/{other_template}/delete", False),
    ("POST", "/reply-templates/{own_template}/delete", True),
    ("POST", "/rules/{rule}/delete", False),
    ("POST", "/zones/{zone}/delete", False),
    ("POST", "/categories/{other_category}/delete", False),
    ("POST", "/departments/{department}/delete", False),
]


@pytest.fixture
def targets(demo_city, staff):
    """The rows the routes are aimed at: the road works (voirie) department's category and
    template, and the cleanliness (proprete) department's."""
    voirie, proprete = department(demo_city, "voirie"), department(demo_city, "proprete")
    own = ReplyTemplate(city_id=demo_city.id, department=voirie, title="Road", body="Done.")
    other = ReplyTemplate(city_id=demo_city.id, department=proprete, title="Bins", body="Done.")
    db.session.add_all([own, other])
    spare = make_department(demo_city, name="Spare")
    key, _secret = create_api_key("Partner", city=demo_city, actor=CLI)
    rule = db.session.scalars(sa.select(RoutingRule).order_by(RoutingRule.id)).first()
    report = submit(demo_city)
    message = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.report_id == report.id)
    ).first()
    message.status = "dead"  # retried, then dropped
    db.session.commit()
    dumping = category(demo_city, "illegal-dumping")
    lat, lon = ILE_SAINT_GERMAIN
    return {
        "department": spare.id,
        "own_category": category(demo_city, "pothole").id,
        "other_category": dumping.id,
        "zone": zone(demo_city, "epinettes").id,
        "rule": rule.id,
        "user": staff["agent.voirie"].id,
        "own_template": own.id,
        "other_template": other.id,
        "key": key.id,
        "message": message.id,
        "tester": f"category_id={dumping.id}&lat={lat}&lon={lon}",
    }


def visit(client, method: str, path: str, targets: dict):
    url = "/staff/admin" + path.format(**targets)
    if method == "GET":
        return client.get(url)
    return client.post(url, data={"csrf_token": csrf(client)})


def test_anonymous_visitors_are_sent_to_sign_in(client, targets):
    for method, path, _manager in ROUTES:
        response = visit(client, method, path, targets)
        assert response.status_code == 302, (method, path)
        assert "/account/signin" in response.headers["Location"], (method, path)


@pytest.mark.parametrize("visitor", ["resident", "agent.voirie", "agent.accueil", "cabinet"])
def test_residents_agents_and_the_mayors_office_are_refused(client, login_as, targets, visitor):
    login_as(visitor)
    for method, path, _manager in ROUTES:
        assert visit(client, method, path, targets).status_code == 403, (method, path)


def test_a_manager_reaches_their_own_categories_and_templates_only(client, login_as, targets):
    login_as(MANAGER)
    for method, path, manager_may in ROUTES:
        status = visit(client, method, path, targets).status_code
        if not manager_may:
            assert status == 403, (method, path)
        elif method == "GET":
            assert status == 200, (method, path)
        else:
            assert status in (302, 422), (method, path, status)


def test_an_administrator_reaches_every_page(client, login_as, targets):
    login_as("admin")
    for method, path, _manager in ROUTES:
        status = visit(client, method, path, targets).status_code
        expected = (200,) if method == "GET" else (302, 422)
        assert status in expected, (method, path, status)


def test_an_administrator_of_another_city_finds_none_of_this_one(client, login_as, targets):
    other = make_city()
    outsider = make_user(email="admin@elsewhere.example.org", role="admin", city=other)
    enrol(outsider)
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = str(outsider.id), True
    for method, path, _manager in ROUTES:
        if "{" in path and "{tester}" not in path:  # the tester offers only its city's
            status = visit(client, method, path, targets).status_code
            assert status in (403, 404), (method, path, status)


def test_the_services_check_again(demo_city, staff, targets):
    manager, agent = Actor.of(staff[MANAGER]), Actor.of(staff["agent.voirie"])
    pothole = category(demo_city, "pothole")
    dumping = category(demo_city, "illegal-dumping")
    with pytest.raises(NotAllowed):  # another department's category
        categories.update_category(dumping, {"sla_hours": 2}, actor=manager)
    with pytest.raises(NotAllowed):  # their own, but not a field managers may change
        categories.update_category(pothole, {"name_en": "Hole"}, actor=manager)
    with pytest.raises(NotAllowed):
        categories.update_category(pothole, {"sla_hours": 2}, actor=agent)
    other_template = db.session.get(ReplyTemplate, targets["other_template"])
    with pytest.raises(NotAllowed):
        reply_templates.delete_reply_template(other_template, actor=manager)
    values = {"title": "T", "body": "B", "department_id": None, "category_id": None}
    with pytest.raises(NotAllowed):
        reply_templates.create_reply_template(
            demo_city, {**values, "status": None, "is_active": True}, actor=agent
        )
    with pytest.raises(NotAllowed):
        rules.create_rule(
            demo_city,
            category_id=pothole.id,
            zone_id=None,
            department_id=pothole.department_id,
            actor=manager,
        )
    with pytest.raises(NotAllowed):
        create_api_key("K", city=demo_city, scopes=["open311"], actor=manager)
    with pytest.raises(NotAllowed):
        accounts.set_account_active(staff["agent.voirie"], False, actor=Actor.system())
