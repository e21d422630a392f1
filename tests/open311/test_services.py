"""A client discovering the endpoint, then listing the city's services and their questions."""

import sqlalchemy as sa

from tellcity.categories.models import Category
from tellcity.extensions import db
from tests.open311.helpers import (
    ATTRIBUTE_FIELDS,
    SERVICE_FIELDS,
    assert_valid,
    children,
    json_of,
    xml_of,
)
from tests.reports.helpers import category


def test_discovery_names_the_v2_endpoint_in_both_formats(client, demo_city):
    document = json_of(client.get("/open311/discovery.json"))
    assert set(document) == {"changeset", "contact", "key_service", "endpoints"}
    [endpoint] = document["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://localhost/open311/v2"
    assert endpoint["type"] == "production"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    root = xml_of(client.get("/open311/discovery.xml"))
    assert root.tag == "discovery"
    formats = [f.text for f in root.findall("endpoints/endpoint/formats/format")]
    assert formats == endpoint["formats"]
    assert root.findtext("endpoints/endpoint/url") == endpoint["url"]
    # Clients append services.json to the URL advertised; its root is the discovery.
    assert client.get(endpoint["url"] + "/services.json").status_code == 200
    assert json_of(client.get(endpoint["url"] + "/")) == document


def test_services_list_the_active_categories(client, demo_city):
    services = json_of(client.get("/open311/v2/services.json"))
    assert_valid("services.json", services)
    pothole = next(s for s in services if s["service_code"] == "pothole")
    assert pothole == {
        "service_code": "pothole",
        "service_name": "Nid-de-poule, chaussée abîmée",
        "description": "Trou, affaissement ou fissure de la chaussée.",
        "metadata": True,
        "type": "realtime",
        "keywords": "trou, route, chaussée, pothole",
        "group": "Voirie et trottoirs",
    }
    pavement = next(s for s in services if s["service_code"] == "pavement")
    assert pavement["metadata"] is False and pavement["keywords"] is None
    active = db.session.scalar(
        sa.select(sa.func.count()).where(Category.city_id == demo_city.id, Category.is_active)
    )
    assert len(services) == active


def test_services_in_xml(client, demo_city):
    root = xml_of(client.get("/open311/v2/services.xml"))
    assert root.tag == "services"
    assert {child.tag for child in root} == {"service"}
    first = root[0]
    assert set(children(first)) == SERVICE_FIELDS
    assert children(first)["service_code"] == "pothole"
    assert children(first)["metadata"] == "true"
    assert len(root) == len(json_of(client.get("/open311/v2/services.json")))


def test_services_speak_the_clients_language(client, demo_city):
    headers = {"Accept-Language": "en"}
    english = json_of(client.get("/open311/v2/services.json", headers=headers))
    pothole = next(s for s in english if s["service_code"] == "pothole")
    assert pothole["service_name"] == "Pothole, damaged road"
    assert pothole["group"] == "Roads and pavements"
    root = xml_of(client.get("/open311/v2/services.xml", headers=headers))
    assert root.find("service/service_name").text == "Pothole, damaged road"


def test_the_cached_list_follows_every_change_to_a_category(client, demo_city):
    before = client.get("/open311/v2/services.json")
    etag = before.headers["ETag"]
    again = client.get("/open311/v2/services.json", headers={"If-None-Match": etag})
    assert again.status_code == 304
    pothole = category(demo_city, "pothole")
    pothole.name_fr = "Trou dans la chaussée"  # an edit: neither a new row nor a new date
    category(demo_city, "graffiti").is_active = False
    db.session.commit()
    after = client.get("/open311/v2/services.json", headers={"If-None-Match": etag})
    services = json_of(after)
    assert after.headers["ETag"] != etag
    names = {s["service_code"]: s["service_name"] for s in services}
    assert names["pothole"] == "Trou dans la chaussée" and "graffiti" not in names
    xml = xml_of(client.get("/open311/v2/services.xml"))
    assert xml.find("service/service_name").text == "Trou dans la chaussée"


def test_a_service_definition_lists_its_questions(client, demo_city):
    definition = json_of(client.get("/open311/v2/services/illegal-dumping.json"))
    assert_valid("service-definition.json", definition)
    assert definition["service_code"] == "illegal-dumping"
    [waste] = definition["attributes"]
    assert waste == {
        "variable": True,
        "code": "waste_type",
        "datatype": "singlevaluelist",
        "required": True,
        "datatype_description": None,
        "order": 1,
        "description": "Nature du dépôt",
        "values": [
            {"key": "bulky", "name": "Encombrants"},
            {"key": "rubble", "name": "Gravats"},
            {"key": "green", "name": "Déchets verts"},
            {"key": "bags", "name": "Sacs d'ordures"},
        ],
    }
    english = json_of(
        client.get("/open311/v2/services/illegal-dumping.json", headers={"Accept-Language": "en"})
    )
    [waste] = english["attributes"]
    assert waste["description"] == "What was dumped"
    assert waste["values"][0] == {"key": "bulky", "name": "Bulky items"}


def test_a_service_definition_in_xml(client, demo_city):
    root = xml_of(client.get("/open311/v2/services/illegal-dumping.xml"))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "illegal-dumping"
    [attribute] = root.findall("attributes/attribute")
    assert set(children(attribute)) == ATTRIBUTE_FIELDS
    assert attribute.findtext("required") == "true"
    keys = [value.findtext("key") for value in attribute.findall("values/value")]
    assert keys == ["bulky", "rubble", "green", "bags"]


def test_definitions_of_every_kind_of_question_and_without_any(client, demo_city):
    pothole = category(demo_city, "pothole")
    pothole.attributes = [
        {"code": "depth", "datatype": "number", "required": True, "order": 5},
        {"code": 42, "datatype": "multivaluelist", "values": [{"key": 1, "name": "one"}]},
        {"code": "note", "datatype": "no-such-type", "variable": False, "order": "3"},
    ]
    db.session.commit()
    definition = json_of(client.get("/open311/v2/services/pothole.json"))
    assert_valid("service-definition.json", definition)
    attributes = definition["attributes"]
    assert [a["code"] for a in attributes] == ["42", "note", "depth"]  # by order
    assert attributes[0]["values"] == [{"key": "1", "name": "one"}]
    assert attributes[1]["datatype"] == "string" and attributes[1]["variable"] is False
    empty = json_of(client.get("/open311/v2/services/pavement.json"))
    assert_valid("service-definition.json", empty)
    assert empty == {"service_code": "pavement", "attributes": []}
    root = xml_of(client.get("/open311/v2/services/pavement.xml"))
    assert root.find("attributes") is not None and len(root.find("attributes")) == 0
    assert b"<attributes></attributes>" in client.get("/open311/v2/services/pavement.xml").data


def test_an_unknown_or_inactive_service_is_a_404(client, demo_city):
    category(demo_city, "graffiti").is_active = False
    db.session.commit()
    for code in ("graffiti", "no-such-service"):
        errors = json_of(client.get(f"/open311/v2/services/{code}.json"), 404)
        assert errors == [{"code": 404, "description": f"service_code {code} not found"}]
        root = xml_of(client.get(f"/open311/v2/services/{code}.xml"), 404)
        assert root.findtext("error/code") == "404"
