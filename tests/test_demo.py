"""The demo city is a plausible Issy-les-Moulineaux a newcomer can work with."""

import pytest
import sqlalchemy as sa
from shapely import union_all
from shapely.geometry import Point, shape

from tellcity.accounts.models import Role, User
from tellcity.categories.models import Category
from tellcity.demo.services import load_city_file
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.routing.models import RoutingRule

TOWN_HALL = Point(2.2735, 48.8245)  # Hôtel de ville d'Issy, 62 rue du Général Leclerc
EIFFEL_TOWER = Point(2.2945, 48.8584)  # in Paris, outside the city


def rows(model, city):
    return db.session.scalars(sa.select(model).where(model.city_id == city.id)).all()


def test_boundary_is_the_real_city(demo_city):
    boundary = shape(demo_city.boundary)
    assert boundary.contains(TOWN_HALL)
    assert not boundary.contains(EIFFEL_TOWER)
    assert boundary.contains(Point(demo_city.center_lon, demo_city.center_lat))
    assert demo_city.insee_code == "92040"


def test_zones_cover_the_city_exactly_without_overlapping(demo_city):
    boundary = shape(demo_city.boundary)
    zones = [shape(zone.boundary) for zone in demo_city.zones]
    assert 4 <= len(zones) <= 6
    union = union_all(zones)
    assert union.symmetric_difference(boundary).area < boundary.area * 1e-9
    for i, zone in enumerate(zones):
        for other in zones[i + 1 :]:
            assert zone.intersection(other).area < boundary.area * 1e-9


def test_zones_have_populations_and_the_town_hall_is_in_exactly_one(demo_city):
    assert sum(zone.population for zone in demo_city.zones) == pytest.approx(69_000, rel=0.05)
    holding = [zone.name for zone in demo_city.zones if shape(zone.boundary).contains(TOWN_HALL)]
    assert len(holding) == 1
    for zone in demo_city.zones:
        min_lon, min_lat, max_lon, max_lat = shape(zone.boundary).bounds
        assert (zone.min_lat, zone.min_lon, zone.max_lat, zone.max_lon) == pytest.approx(
            (min_lat, min_lon, max_lat, max_lon)
        )


def test_departments_include_a_triage_desk_and_an_external_body(demo_city):
    departments = rows(Department, demo_city)
    assert 6 <= len(departments) <= 8
    assert sum(d.is_triage for d in departments) == 1
    assert sum(d.is_external for d in departments) >= 1
    slugs = {d.slug for d in departments}
    expected = {"voirie", "proprete", "eclairage", "espaces-verts", "police-municipale"}
    assert expected | {"batiments"} <= slugs


def test_categories_are_bilingual_open311_services_with_slas(demo_city):
    categories = rows(Category, demo_city)
    assert 15 <= len(categories) <= 25
    assert {c.kind for c in categories} == {"problem", "suggestion"}
    assert len({c.code for c in categories}) == len(categories)
    for category in categories:
        assert category.name_fr and category.name_en and category.name_fr != category.name_en
        assert category.group_fr and category.group_en
        assert category.sla_hours and category.department is not None
    pothole = next(c for c in categories if c.code == "pothole")
    assert pothole.department.slug == "voirie"
    assert pothole.attributes[0]["code"] == "size"
    assert pothole.attributes[0]["values"][0]["key"] == "small"


def test_routing_rules_include_a_zone_specific_one(demo_city):
    rules = rows(RoutingRule, demo_city)
    zoned = [rule for rule in rules if rule.zone is not None]
    assert zoned
    for rule in zoned:
        assert rule.department != rule.category.department


def test_every_role_has_an_account_whose_printed_password_works(demo_city):
    assert {account.role for account in demo_city.accounts} == set(Role)
    for account in demo_city.accounts:
        user = db.session.scalar(sa.select(User).where(User.email == account.email))
        assert user.check_password(account.password)
        assert not user.check_password(account.password + "x")
        assert account.password not in user.password_hash
    passwords = [account.password for account in demo_city.accounts]
    assert len(set(passwords)) == len(passwords)


def test_loading_the_same_city_twice_is_refused(demo_city):
    with pytest.raises(ValueError, match="already exists"):
        load_city_file()
