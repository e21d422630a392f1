"""Errors in the spec's shape — a list of {code, description}, errors/error in XML — for bad
jurisdictions, unknown routes and methods, whatever the format."""

import pytest

from tellcity.extensions import db
from tests.factories import make_category, make_city
from tests.open311.helpers import POTHOLE, json_of, new_key, post, xml_of

ENDPOINTS = [
    "/open311/v2/services.{}",
    "/open311/v2/services/pothole.{}",
    "/open311/v2/requests.{}",
    "/open311/v2/requests/ISS-2026-000001.{}",
    "/open311/v2/tokens/ISS-2026-000001.{}",
    "/open311/v2/servicerequestupdates.{}",
]


@pytest.mark.parametrize("url", ENDPOINTS)
def test_an_unknown_jurisdiction_is_a_404(client, demo_city, url):
    params = {"jurisdiction_id": "springfield"}
    errors = json_of(client.get(url.format("json"), query_string=params), 404)
    assert errors == [{"code": 404, "description": "jurisdiction_id springfield not found"}]
    root = xml_of(client.get(url.format("xml"), query_string=params), 404)
    assert root.tag == "errors"
    [error] = root.findall("error")
    assert (error.findtext("code"), error.findtext("description")) == (
        "404",
        "jurisdiction_id springfield not found",
    )


@pytest.fixture
def two_cities(demo_city):
    other = make_city(slug="springfield", name="Springfield")
    make_category(other, code="pothole", name_fr="Nid-de-poule", name_en="Pothole")
    db.session.commit()
    return demo_city, other


@pytest.mark.parametrize("url", ENDPOINTS)
def test_with_several_cities_the_jurisdiction_is_required(client, two_cities, url):
    errors = json_of(client.get(url.format("json")), 400)
    assert errors == [
        {"code": 400, "description": "jurisdiction_id is required: this endpoint serves several"}
    ]
    assert xml_of(client.get(url.format("xml")), 400).findtext("error/code") == "400"


def test_each_city_is_its_own_jurisdiction(client, two_cities):
    issy, _springfield = two_cities
    services = json_of(client.get("/open311/v2/services.json?jurisdiction_id=springfield"))
    assert [s["service_name"] for s in services] == ["Nid-de-poule"]
    key = new_key(city=issy)
    form = {**POTHOLE, "jurisdiction_id": "issy-les-moulineaux"}
    [created] = json_of(post(client, key, data=form))
    assert created["service_request_id"].startswith("ISS-")
    url = f"/open311/v2/requests/{created['service_request_id']}.json"
    assert json_of(client.get(url, query_string={"jurisdiction_id": "springfield"}), 404)


def test_cities_made_by_an_import_do_not_count(client, demo_city):
    make_city(slug="los-angeles", name="Los Angeles", is_imported=True)
    db.session.commit()
    assert client.get("/open311/v2/services.json").status_code == 200
    assert client.get("/open311/v2/requests.json?jurisdiction_id=los-angeles").json == []


def test_without_any_city_everything_is_a_404(client, app):
    errors = json_of(client.get("/open311/v2/services.json"), 404)
    assert errors == [{"code": 404, "description": "no jurisdiction is served here yet"}]


@pytest.mark.parametrize(
    ("url", "fmt"),
    [
        ("/open311/v2/nothing.xml", "xml"),
        ("/open311/v2/nothing.json", "json"),
        ("/open311/v2/services.csv", "json"),
        ("/open311/v2/requests/ISS-2026-000001", "json"),
        ("/open311/v3/services.xml", "xml"),
        ("/open311/", "json"),
    ],
)
def test_unknown_routes_answer_in_the_error_shape(client, demo_city, url, fmt):
    response = client.get(url)
    if fmt == "xml":
        assert xml_of(response, 404).findtext("error/description") == f"no such resource: {url}"
    else:
        assert json_of(response, 404) == [{"code": 404, "description": f"no such resource: {url}"}]


def test_a_wrong_method_is_a_405_saying_which_are_allowed(client, demo_city):
    response = client.delete("/open311/v2/requests.xml")
    assert xml_of(response, 405).findtext("error/code") == "405"
    assert set(response.headers["Allow"].split(", ")) == {"GET", "POST"}
    response = client.post("/open311/v2/services.json")
    assert json_of(response, 405)[0]["code"] == 405
    assert response.headers["Allow"] == "GET"


def test_markup_in_a_message_is_escaped_in_xml(client, demo_city):
    response = client.get("/open311/v2/services/<b>&.xml")
    root = xml_of(response, 404)
    assert root.findtext("error/description") == "service_code <b>& not found"
    assert b"&lt;b&gt;&amp;" in response.data


def test_characters_xml_cannot_carry_are_dropped(client, demo_city):
    response = client.get("/open311/v2/requests.xml?jurisdiction_id=a%01b%1Fc")
    root = xml_of(response, 404)
    assert root.findtext("error/description") == "jurisdiction_id abc not found"
    json = json_of(client.get("/open311/v2/requests.json?jurisdiction_id=a%01b"), 404)
    assert json[0]["description"] == "jurisdiction_id a\x01b not found"
