"""Who reaches which staff page: every staff route, for every kind of visitor, on a ticket of
their own department and of another."""

import pytest

from tellcity.extensions import db
from tests.reports.helpers import ILE_SAINT_GERMAIN, submit

VISITORS = [
    "anonymous",
    "resident",
    "agent.voirie",
    "agent.proprete",
    "chef.voirie",
    "chef.proprete",
    "cabinet",
    "admin",
]
#: Routes a ticket of the road works department (voirie) is reached by.
TICKET_GETS = ["/staff/tickets/{ref}"]
TICKET_POSTS = [
    "/staff/tickets/{ref}/" + action
    for action in (
        "status",
        "transfer",
        "assign",
        "priority",
        "note",
        "reply",
        "merge",
        "visibility",
        "description",
        "correct",
    )
]
#: What each visitor gets: GET of the queue pages, GET of the voirie ticket, POST on it.
EXPECTED = {
    "anonymous": (302, 302, 302),
    "resident": (403, 403, 403),
    "agent.voirie": (200, 200, 302),
    "agent.proprete": (200, 404, 404),
    "chef.voirie": (200, 200, 302),
    "chef.proprete": (200, 404, 404),
    "cabinet": (200, 200, 403),
    "admin": (200, 200, 302),
}


@pytest.fixture
def road_ticket(demo_city):
    report = submit(demo_city, "pothole")
    db.session.commit()
    return report.reference


@pytest.mark.parametrize("visitor", VISITORS)
def test_staff_route_matrix(client, login_as, road_ticket, visitor):
    login_as(None if visitor == "anonymous" else visitor)
    queue_code, ticket_code, post_code = EXPECTED[visitor]
    queue_pages = ("/staff/", "/staff/map", "/staff/map?format=json", "/staff/export.csv")
    for url in (*queue_pages, "/account/two-factor"):
        assert client.get(url).status_code == queue_code, (visitor, url)
    for url in TICKET_GETS:
        assert client.get(url.format(ref=road_ticket)).status_code == ticket_code, (visitor, url)
    token = _csrf(client)
    for url in TICKET_POSTS:
        response = client.post(url.format(ref=road_ticket), data={"csrf_token": token})
        assert response.status_code == post_code, (visitor, url)
    bulk = client.post(
        "/staff/bulk", data={"csrf_token": token, "action": "acknowledge", "ticket": road_ticket}
    )
    assert bulk.status_code == {"anonymous": 302, "resident": 403, "cabinet": 403}.get(visitor, 302)


def _csrf(client) -> str:
    """A CSRF token of the signed-in visitor's session (from a public form)."""
    from tests.web.helpers import form_tokens

    return form_tokens(client, "/report")["csrf_token"]


def test_anonymous_visitors_are_sent_to_sign_in(client, road_ticket):
    response = client.get("/staff/")
    assert response.status_code == 302 and "/account/signin" in response.location


def test_another_department_s_ticket_stays_unchanged(client, login_as, demo_city, road_ticket):
    from tellcity.reports.queries import report_by_reference

    login_as("agent.proprete")
    client.post(
        f"/staff/tickets/{road_ticket}/status",
        data={"csrf_token": _csrf(client), "to": "acknowledged"},
    )
    db.session.expire_all()
    assert report_by_reference(road_ticket).status == "new"


def test_the_park_department_does_not_see_road_tickets_in_its_queue(
    client, login_as, demo_city, road_ticket
):
    park = submit(demo_city, "illegal-dumping", at=ILE_SAINT_GERMAIN)
    db.session.commit()
    login_as("agent.proprete")
    page = client.get("/staff/").get_data(as_text=True)
    assert road_ticket not in page and park.reference not in page  # parks, not cleanliness
    login_as("agent.voirie")
    assert road_ticket in client.get("/staff/").get_data(as_text=True)


def test_the_public_site_links_to_the_dashboard_for_signed_in_staff_only(
    client, login_as, demo_city
):
    dashboard = 'href="/staff/"'
    assert dashboard not in client.get("/").get_data(as_text=True)
    login_as("resident")
    assert dashboard not in client.get("/").get_data(as_text=True)
    for name in ("agent.voirie", "chef.voirie", "cabinet", "admin"):
        login_as(name)
        assert dashboard in client.get("/reports").get_data(as_text=True), name
