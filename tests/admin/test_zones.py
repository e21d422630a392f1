"""Zones through the admin pages: a GeoJSON upload is checked (valid polygons, inside the
city, no overlaps) and refused as a whole, saying which feature and why; or it adds its zones,
or replaces them all; zones are renamed and deleted."""

import io
import json

import pytest
import sqlalchemy as sa
from shapely.geometry import Point, box, mapping, shape

from tellcity.audit.models import AuditEntry
from tellcity.cities.models import City, Zone
from tellcity.extensions import db
from tellcity.reports.models import Report
from tellcity.routing.models import RoutingRule
from tests.admin.helpers import audit, flashes, fresh, post, zone
from tests.reports.helpers import EIFFEL_TOWER, TOWN_HALL, submit
from tests.web.helpers import text


def halves(city):
    """The city cut in two along the meridian through its middle: two valid polygons that
    cover it and share one edge."""
    boundary = shape(city.boundary)
    west, south, east, north = boundary.bounds
    middle = (west + east) / 2
    return (
        boundary.intersection(box(west - 1, south - 1, middle, north + 1)),
        boundary.intersection(box(middle, south - 1, east + 1, north + 1)),
    )


def feature(geometry, name: str, population: int | None = None) -> dict:
    geojson = geometry if isinstance(geometry, dict) else mapping(geometry)
    properties = {"name": name} | ({"population": population} if population is not None else {})
    return {"type": "Feature", "properties": properties, "geometry": geojson}


def collection(*features) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def upload(client, document, replace: bool = False):
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    data = {"file": (io.BytesIO(raw), "zones.geojson")} | ({"replace": "y"} if replace else {})
    return post(client, "/staff/admin/zones/upload", data, content_type="multipart/form-data")


def zone_names(city) -> list[str]:
    db.session.expire_all()
    return db.session.scalars(sa.select(Zone.name).where(Zone.city_id == city.id)).all()


@pytest.fixture
def admin(client, login_as, demo_city):
    return login_as("admin")


def test_replace_all_loads_the_new_zones_in_place_of_the_old(client, admin, demo_city):
    report_id = submit(demo_city, "pothole", at=TOWN_HALL).id
    db.session.commit()
    version = demo_city.config_version
    west, east = halves(demo_city)
    document = collection(feature(west, "Ouest", 30000), feature(east, "Est", 39000))
    response = upload(client, document, replace=True)
    assert response.status_code == 302
    assert flashes(client) == ["2 zone(s) loaded."]
    assert sorted(zone_names(demo_city)) == ["Est", "Ouest"]
    est = zone(demo_city, "est")
    assert est.population == 39000
    assert (est.min_lon, est.min_lat, est.max_lon, est.max_lat) == pytest.approx(east.bounds)
    assert fresh(Report, report_id).zone_id == est.id  # the town hall is east of the middle
    assert fresh(City, demo_city.id).config_version > version
    assert [e.action for e in audit("zones")] == ["delete"] * 5 + ["create"] * 2
    assert [e.action for e in audit("routing_rules")] == ["delete", "delete"]  # the zone rules
    assert db.session.query(RoutingRule).filter(RoutingRule.zone_id.is_not(None)).count() == 0
    assert "Est" in text(client.get("/staff/admin/zones"))


def test_a_zone_is_added_where_there_is_none(client, admin, demo_city):
    epinettes = zone(demo_city, "epinettes")
    boundary, epinettes_id = epinettes.boundary, epinettes.id
    assert post(client, f"/staff/admin/zones/{epinettes_id}/delete").status_code == 302
    assert fresh(Zone, epinettes_id) is None
    response = upload(client, feature(boundary, "Les Épinettes", 11800))
    assert response.status_code == 302
    added = zone(demo_city, "les-epinettes")
    assert (added.name, added.population) == ("Les Épinettes", 11800)
    assert len(zone_names(demo_city)) == 5
    [entry] = audit("zones", added.id, "create")
    assert entry.after["population"] == 11800


#: A polygon crossing itself: a bow tie.
BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[2.25, 48.82], [2.26, 48.83], [2.26, 48.82], [2.25, 48.83], [2.25, 48.82]]],
}
#: A square around the Eiffel Tower, well outside Issy.
PARIS = Point(EIFFEL_TOWER[1], EIFFEL_TOWER[0]).buffer(0.002)


def refusals(city):
    """(document, replace, what the page says) for files that must be refused whole."""
    west, east = halves(city)
    bulge = box(*west.bounds).intersection(shape(city.boundary)).buffer(-0.001)
    return [
        (
            collection(feature(west, "Ouest"), feature(BOWTIE, "Nœud")),
            True,
            "Feature 2 (Nœud): its polygon is not valid (Self-intersection",
        ),
        (
            collection(feature(west, "Ouest"), feature(PARIS, "Paris")),
            True,
            "Feature 2 (Paris) goes outside the city limits.",
        ),
        (collection(feature(west, "Ouest")), False, "Feature 1 (Ouest) overlaps the existing zone"),
        (
            collection(feature(west, "Ouest"), feature(bulge, "Bosse")),
            True,
            "Feature 2 (Bosse) overlaps Feature 1 (Ouest).",
        ),
        (
            collection(feature(west, "Ouest"), feature(east, "ouest")),
            True,
            "Feature 2 (ouest): there is already a zone named Ouest.",
        ),
        (
            collection(feature(west, "Ouest"), feature(east, "")),
            True,
            "Feature 2 has no name property",
        ),
        (
            collection(feature(west, "Ouest", -3)),
            True,
            "Feature 1 (Ouest): population must be a whole number, 0 or more.",
        ),
        (
            collection(feature({"type": "Point", "coordinates": [2.26, 48.82]}, "Point")),
            True,
            "Feature 1 (Point): the geometry must be a Polygon or a MultiPolygon.",
        ),
        (b"\x89PNG not json", True, "The file is not UTF-8 text."),
        (b"{not json", True, "The file is not valid JSON"),
        (
            {"type": "Polygon", "coordinates": []},
            True,
            "The file must hold a GeoJSON Feature or FeatureCollection.",
        ),
    ]


def test_a_wrong_file_is_refused_whole_saying_which_feature_and_why(client, admin, demo_city):
    before = sorted(zone_names(demo_city))
    for document, replace, message in refusals(demo_city):
        response = upload(client, document, replace=replace)
        assert response.status_code == 422, message
        assert message in text(response).replace("&#39;", "'"), message
        assert sorted(zone_names(demo_city)) == before
        assert db.session.query(AuditEntry).count() == 0
    assert db.session.query(RoutingRule).filter(RoutingRule.zone_id.is_not(None)).count() == 2


def test_an_upload_needs_a_file(client, admin, demo_city):
    response = post(client, "/staff/admin/zones/upload", {}, content_type="multipart/form-data")
    assert response.status_code == 422 and "Choose a file." in text(response)


def test_a_zone_is_renamed_and_its_population_changed(client, admin, demo_city):
    centre = zone(demo_city, "centre-ville")
    data = {"name": "Centre", "population": "17000"}
    assert post(client, f"/staff/admin/zones/{centre.id}", data).status_code == 302
    centre = fresh(Zone, centre.id)
    assert (centre.name, centre.slug, centre.population) == ("Centre", "centre-ville", 17000)
    [entry] = audit("zones", centre.id)
    assert (entry.before["name"], entry.after["name"]) == (
        "Centre-ville (secteur de démo)",
        "Centre",
    )
    assert (entry.before["population"], entry.after["population"]) == (16800, 17000)


def test_two_zones_cannot_share_a_name(client, admin, demo_city):
    centre = zone(demo_city, "centre-ville")
    data = {"name": "val de seine (secteur de démo)", "population": ""}
    response = post(client, f"/staff/admin/zones/{centre.id}", data)
    assert response.status_code == 422
    assert "There is already a zone named val de seine (secteur de démo)." in text(response)
    assert fresh(Zone, centre.id).name == "Centre-ville (secteur de démo)"


def test_deleting_a_zone_deletes_its_rules_and_keeps_its_reports(client, admin, demo_city):
    riverside = zone(demo_city, "val-de-seine")
    riverside_id = riverside.id
    report_id = submit(demo_city, "illegal-dumping", at=(48.8285, 2.2580)).id
    db.session.commit()
    assert post(client, f"/staff/admin/zones/{riverside_id}/delete").status_code == 302
    assert fresh(Zone, riverside_id) is None
    report = fresh(Report, report_id)
    assert report is not None and report.zone_id is None
    assert [e.action for e in audit("routing_rules")] == ["delete"]
    [entry] = audit("zones", riverside_id)
    assert entry.action == "delete" and entry.before["slug"] == "val-de-seine"
