"""Each process keeps a copy of the cities it serves (tellcity.cities.queries.city_by_slug):
what a request gets is always the city as its own transaction sees it."""

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tellcity import create_app
from tellcity.cities.models import City
from tellcity.cities.queries import city_by_slug, current_city
from tellcity.core.errors import NotFound
from tellcity.extensions import db
from tests.conftest import _test_config
from tests.factories import make_city


def rename_elsewhere(city_id: int, name: str) -> None:
    """Rename the city in a session and transaction of its own, as another process would."""
    with Session(db.engine) as other:
        other.get(City, city_id).name = name
        other.commit()


def next_request() -> None:
    db.session.remove()


def test_a_change_committed_elsewhere_is_seen_by_the_next_request(app):
    city = make_city(name="Issy")
    db.session.commit()
    slug, city_id = city.slug, city.id
    assert city_by_slug(slug).name == "Issy"  # now kept
    next_request()
    rename_elsewhere(city_id, "Issy-les-Moulineaux")
    next_request()
    assert city_by_slug(slug).name == "Issy-les-Moulineaux"


def test_the_kept_copy_is_an_instance_of_the_requests_session(app):
    city = make_city()
    db.session.commit()
    slug = city.slug
    next_request()
    first = city_by_slug(slug)
    next_request()
    found = city_by_slug(slug)
    assert found is not first
    assert found in db.session
    assert city_by_slug(slug) is found
    found.name = "Changed"
    db.session.commit()
    next_request()
    assert city_by_slug(slug).name == "Changed"


def test_an_uncommitted_change_is_seen_by_its_session_and_never_kept(app):
    city = make_city(name="Before")
    db.session.commit()
    slug, city_id = city.slug, city.id
    next_request()
    city_by_slug(slug).name = "Rolled back"
    db.session.flush()
    assert city_by_slug(slug).name == "Rolled back"
    db.session.rollback()
    next_request()
    assert city_by_slug(slug).name == "Before"
    rename_elsewhere(city_id, "After")  # the version the rolled-back change had reached
    next_request()
    assert city_by_slug(slug).name == "After"


def test_each_app_keeps_its_own_cities(app, tmp_path):
    """Two apps in one process (here, on two databases where the same city has the same id and
    version but another name) each serve their own."""
    make_city(slug="issy", name="Issy")
    db.session.commit()
    assert city_by_slug("issy").name == "Issy"  # now kept by this app
    other = create_app(_test_config(tmp_path / "other", f"sqlite:///{tmp_path / 'other.db'}"))
    with other.app_context():
        db.create_all()
        make_city(slug="issy", name="Issy-les-Moulineaux")
        db.session.commit()
        assert city_by_slug("issy").name == "Issy-les-Moulineaux"
        db.session.remove()
        db.engine.dispose()
    next_request()
    assert city_by_slug("issy").name == "Issy"


def test_an_unknown_slug_is_none(app):
    assert city_by_slug("atlantis") is None
    assert db.session.scalar(sa.select(sa.func.count(City.id))) == 0


def test_the_current_city_is_the_one_named_else_the_callers_own_else_the_default(app):
    app.config["DEFAULT_CITY"] = "issy"
    with pytest.raises(NotFound):
        current_city()  # no city configured yet
    issy, other = make_city(slug="issy"), make_city(slug="ailleurs")
    db.session.commit()
    assert current_city() == issy
    assert current_city(own_city_id=other.id) == other
    assert current_city("ailleurs", own_city_id=issy.id) == other
    with pytest.raises(NotFound):
        current_city("atlantis")


def test_pages_and_apis_say_when_no_city_is_configured(client):
    assert client.get("/reports", headers={"Accept": "text/html"}).status_code == 404
    assert client.get("/api/v1/categories").status_code == 404
    assert client.get("/open-data/reports.csv").status_code == 404
