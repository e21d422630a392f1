"""Reports reach the right department: zone rule, then any-zone rule, then the category's
default department, then the triage desk."""

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from shapely.geometry import shape

from tellcity.categories.models import Category
from tellcity.cities.models import Zone
from tellcity.core.errors import Invalid
from tellcity.extensions import db
from tellcity.geo.places import is_inside, zone_id_at
from tellcity.reports.history import describe, routing_reason
from tellcity.routing.models import RoutingRule
from tellcity.routing.services import route
from tests.reports.helpers import (
    EIFFEL_TOWER,
    ILE_SAINT_GERMAIN,
    TOWN_HALL,
    category,
    department,
    submit,
)


def reason(decision) -> str:
    """Why, as an administrator reading English is told."""
    with force_locale("en"):
        return routing_reason(decision.data, decision.department.city)


def zone(city, slug):
    return db.session.scalar(sa.select(Zone).where(Zone.city_id == city.id, Zone.slug == slug))


def test_a_category_goes_to_its_default_department(demo_city):
    decision = route(demo_city, category(demo_city, "pothole"), *TOWN_HALL)
    assert decision.department.slug == "voirie"
    assert decision.zone.slug == "centre-ville"
    assert decision.rule is None
    assert reason(decision) == "default department of Pothole, damaged road"


def test_a_zone_rule_wins_in_its_zone_only(demo_city):
    dumping = category(demo_city, "illegal-dumping")
    riverside = route(demo_city, dumping, *ILE_SAINT_GERMAIN)
    assert riverside.zone.slug == "val-de-seine"
    assert riverside.department.slug == "espaces-verts"
    assert riverside.rule is not None and "in Val de Seine" in reason(riverside)
    assert route(demo_city, dumping, *TOWN_HALL).department.slug == "proprete"


def test_an_any_zone_rule_beats_the_default_department(demo_city):
    decision = route(demo_city, category(demo_city, "noise"), *TOWN_HALL)
    assert decision.department.slug == "police-municipale"
    assert "in any zone" in reason(decision)


def test_zone_rules_come_before_any_zone_rules_whatever_their_position(demo_city):
    noise = category(demo_city, "noise")
    db.session.add(
        RoutingRule(
            city=demo_city,
            category=noise,
            zone=zone(demo_city, "centre-ville"),
            department=department(demo_city, "batiments"),
            position=99,
        )
    )
    db.session.flush()
    assert route(demo_city, noise, *TOWN_HALL).department.slug == "batiments"
    assert route(demo_city, noise, *ILE_SAINT_GERMAIN).department.slug == "police-municipale"


def test_without_rule_or_default_the_triage_desk_gets_it(demo_city):
    orphan = Category(
        city=demo_city, code="orphan", name_fr="Orphelin", name_en="Orphan", department=None
    )
    db.session.add(orphan)
    db.session.flush()
    decision = route(demo_city, orphan, *TOWN_HALL)
    assert decision.department.is_triage
    assert decision.department.slug == "accueil"


def test_a_point_on_the_border_of_two_zones_always_gets_the_same_one(demo_city):
    val, centre = zone(demo_city, "val-de-seine"), zone(demo_city, "centre-ville")
    border = shape(val.boundary).boundary.intersection(shape(centre.boundary).boundary)
    lon, lat = border.geoms[0].coords[0] if hasattr(border, "geoms") else border.coords[0]
    assert shape(val.boundary).covers(shape({"type": "Point", "coordinates": [lon, lat]}))
    assert zone_id_at(demo_city, lat, lon) == min(val.id, centre.id)
    assert zone_id_at(demo_city, lat, lon) == zone_id_at(demo_city, lat, lon)


def test_outside_the_city_a_report_is_refused_with_the_reason(demo_city):
    assert not is_inside(demo_city, *EIFFEL_TOWER)
    with pytest.raises(Invalid) as refused:
        submit(demo_city, at=EIFFEL_TOWER)
    assert refused.value.code == "outside_city"
    assert "hors des limites de la commune (Issy-les-Moulineaux)" in refused.value.message


def test_a_point_on_the_city_limit_is_inside(demo_city):
    lon, lat = demo_city.boundary["coordinates"][0][3]
    assert is_inside(demo_city, lat, lon)


def test_changing_a_zone_is_seen_at_once(demo_city):
    dumping = category(demo_city, "illegal-dumping")
    assert route(demo_city, dumping, *ILE_SAINT_GERMAIN).department.slug == "espaces-verts"
    val = zone(demo_city, "val-de-seine")
    far_away = {
        "type": "Polygon",
        "coordinates": [[[0.0, 0.0], [0.1, 0.0], [0.1, 0.1], [0.0, 0.1], [0.0, 0.0]]],
    }
    val.boundary, val.min_lat, val.min_lon, val.max_lat, val.max_lon = far_away, 0, 0, 0.1, 0.1
    db.session.commit()
    assert zone_id_at(demo_city, *ILE_SAINT_GERMAIN) is None
    assert route(demo_city, dumping, *ILE_SAINT_GERMAIN).department.slug == "proprete"


def test_a_zone_change_is_seen_by_its_transaction_and_forgotten_with_it(demo_city):
    val = zone(demo_city, "val-de-seine")
    val.boundary, val.min_lat, val.min_lon, val.max_lat, val.max_lon = FAR_AWAY, 0, 0, 0.1, 0.1
    assert zone_id_at(demo_city, *ILE_SAINT_GERMAIN) is None
    db.session.rollback()
    assert zone_id_at(demo_city, *ILE_SAINT_GERMAIN) == val.id
    dumping = category(demo_city, "illegal-dumping")
    assert route(demo_city, dumping, *ILE_SAINT_GERMAIN).department.slug == "espaces-verts"


FAR_AWAY = {
    "type": "Polygon",
    "coordinates": [[[0.0, 0.0], [0.1, 0.0], [0.1, 0.1], [0.0, 0.1], [0.0, 0.0]]],
}


def test_the_routing_decision_is_in_the_first_event_for_staff(demo_city):
    report = submit(
        demo_city, "illegal-dumping", at=ILE_SAINT_GERMAIN, answers={"waste_type": "bulky"}
    )
    first = report.events[0]
    assert first.type == "created" and not first.is_public
    assert first.text == ""  # the decision is data, said in the reader's language
    with force_locale("en"):
        assert describe(first).startswith(
            "Received and routed to Parcs, jardins et espaces verts (rule #"
        )
        assert ": Fly-tipping in Val de Seine" in describe(first)
    with force_locale("fr"):
        assert describe(first).startswith(
            "Reçu et orienté vers Parcs, jardins et espaces verts (règle n° "
        )
    assert first.data["routing"]["zone"] == "val-de-seine"
    assert report.department.slug == "espaces-verts"
    assert report.zone.slug == "val-de-seine"
