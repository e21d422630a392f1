"""Who reads the statistics: the mayor's office and administrators, on the pages and the API;
clients with an API key that has the "stats" scope on the API; nobody else."""

import pytest

from tellcity.accounts.api_keys import create_api_key
from tellcity.admin.access import CLI
from tellcity.cities.models import City
from tellcity.core.db import utcnow
from tellcity.extensions import db
from tests.reports.helpers import department

VISITORS = {
    "anonymous": (302, 401),
    "resident": (403, 403),
    "agent.voirie": (403, 403),
    "chef.voirie": (403, 403),
    "cabinet": (200, 200),
    "admin": (200, 200),
}


def api_key(city, scopes, **changes) -> str:
    """A key for `city` (None: every city) with `scopes`, committed; returns the secret."""
    row, secret = create_api_key("tableau de bord", city=city, actor=CLI)
    row.scopes = list(scopes)
    for name, value in changes.items():
        setattr(row, name, value)
    db.session.commit()
    return secret


def other_city() -> City:
    square = {"type": "Polygon", "coordinates": [[[5, 45], [5.01, 45], [5.01, 45.01], [5, 45]]]}
    city = City(
        slug="ailleurs",
        name="Ailleurs",
        reference_prefix="AIL",
        boundary=square,
        center_lat=45.005,
        center_lon=5.005,
    )
    db.session.add(city)
    db.session.commit()
    return city


@pytest.mark.parametrize("visitor", VISITORS)
def test_pages_exports_and_api_by_visitor(client, login_as, demo_city, visitor):
    login_as(None if visitor == "anonymous" else visitor)
    page_code, api_code = VISITORS[visitor]
    voirie = department(demo_city, "voirie").id
    for url in (
        "/staff/stats/",
        f"/staff/stats/departments/{voirie}",
        "/staff/stats/monthly",
        "/staff/stats/monthly?month=2025-03",
        "/staff/stats/export/departments.csv",
        "/staff/stats/export/zones.json",
    ):
        response = client.get(url)
        assert response.status_code == page_code, (visitor, url)
        if page_code == 302:
            assert "/account/signin" in response.location
    response = client.get("/api/v1/stats")
    assert response.status_code == api_code, visitor
    assert response.is_json
    if api_code == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_nav_links_to_statistics_for_the_mayors_office_only(client, login_as, demo_city):
    login_as("cabinet")
    assert b'href="/staff/stats/"' in client.get("/staff/").data
    login_as("chef.voirie")
    assert b'href="/staff/stats/"' not in client.get("/staff/").data


def test_api_keys_with_the_stats_scope(client, demo_city):
    secret = api_key(demo_city, ["stats"])
    bearer = client.get("/api/v1/stats", headers={"Authorization": f"Bearer {secret}"})
    assert bearer.status_code == 200
    assert bearer.json["city"]["slug"] == demo_city.slug
    header = client.get("/api/v1/stats", headers={"X-Api-Key": secret})
    assert header.status_code == 200


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ("no stats scope", 403),
        ("revoked", 401),
        ("wrong secret", 401),
        ("another city's key", 403),
        ("key of every city", 200),
    ],
)
def test_api_keys_refused(client, demo_city, setup, code):
    if setup == "no stats scope":
        secret = api_key(demo_city, ["open311"])
    elif setup == "revoked":
        secret = api_key(demo_city, ["stats"], revoked_at=utcnow())
    elif setup == "wrong secret":
        secret = api_key(demo_city, ["stats"])[:-4] + "AAAA"
    elif setup == "another city's key":
        secret = api_key(other_city(), ["stats"])
    else:
        secret = api_key(None, ["stats", "open311"])
    response = client.get(
        f"/api/v1/stats?city={demo_city.slug}", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == code
    assert response.is_json


def test_staff_of_one_city_cannot_read_another(client, login_as, demo_city):
    other_city()
    login_as("cabinet")
    assert client.get("/api/v1/stats?city=ailleurs").status_code == 403
    assert client.get("/api/v1/stats?city=nowhere").status_code == 404
    # The pages always show the user's own city.
    page = client.get("/staff/stats/?city=ailleurs")
    assert page.status_code == 200 and "Issy-les-Moulineaux" in page.text


def test_another_citys_department_is_not_found(client, login_as, demo_city):
    login_as("cabinet")
    assert client.get("/staff/stats/departments/999999").status_code == 404
    assert client.get("/staff/stats/export/nothing.csv").status_code == 404
    assert client.get("/staff/stats/export/departments.xml").status_code == 404
