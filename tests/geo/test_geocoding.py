"""Finding addresses in the city, and the address of a position, through the national address
base; the form keeps working on the position alone when the geocoder does not answer."""

import time
from datetime import timedelta

import pytest
from geopy.exc import GeocoderNotFound
from geopy.geocoders import BANFrance, Nominatim

from tellcity import create_app
from tellcity.core.db import utcnow
from tellcity.extensions import db
from tellcity.geo.geocoding import (
    GeocodeResult,
    Place,
    fill_missing_addresses,
    geocoder,
    reverse_address,
    search_address,
)
from tellcity.reports.states import Source
from tests.geo.ban_server import PARIS, TOWN_HALL, Address
from tests.reports.helpers import ILE_SAINT_GERMAIN, submit

TOWN_HALL_PLACE = Place(TOWN_HALL.lat, TOWN_HALL.lon, TOWN_HALL.label)


def test_an_address_in_the_city_is_found(demo_city, ban):
    ban.found = [TOWN_HALL]

    result = search_address("62 rue du Général Leclerc", demo_city)

    assert result == GeocodeResult((TOWN_HALL_PLACE,), available=True)
    path, params = ban.requests[0]
    assert path.rstrip("/") == "/search"
    assert params["q"] == "62 rue du Général Leclerc Issy-les-Moulineaux"
    assert int(params["limit"]) >= 5


def test_the_city_name_is_not_added_twice(demo_city, ban):
    search_address("rue du Général Leclerc, issy-les-moulineaux", demo_city)
    assert ban.requests[0][1]["q"] == "rue du Général Leclerc, issy-les-moulineaux"


def test_addresses_outside_the_city_are_left_out(demo_city, ban):
    ban.found = [PARIS, TOWN_HALL]

    result = search_address("62 rue du Général Leclerc", demo_city)

    assert result.places == (TOWN_HALL_PLACE,)
    assert result.available


def test_at_most_the_limit_is_given(demo_city, ban):
    others = [
        Address(f"{n} Rue Ernest Renan 92130 Issy", 48.8225, 2.2640 + n / 10000) for n in (1, 3, 5)
    ]
    ban.found = [*others, TOWN_HALL]
    result = search_address("rue Ernest Renan", demo_city, limit=2)
    assert [place.label for place in result.places] == [others[0].label, others[1].label]


def test_a_query_too_short_to_mean_anything_asks_nobody(demo_city, ban):
    assert search_address("  a ", demo_city) == GeocodeResult((), available=True)
    assert ban.requests == []


def test_nothing_found_is_an_empty_answer_not_an_outage(demo_city, ban):
    assert search_address("rue qui n'existe pas", demo_city) == GeocodeResult((), True)


def test_a_geocoder_that_is_down_is_said_unavailable_at_once(demo_city, ban_down):
    started = time.monotonic()
    result = search_address("62 rue du Général Leclerc", demo_city)
    assert result == GeocodeResult((), available=False)
    assert time.monotonic() - started < 1


def test_a_geocoder_too_slow_to_answer_is_given_up_on_in_time(app, demo_city, ban):
    assert app.config["GEOCODER_TIMEOUT"] == 3
    ban.found, ban.delay = [TOWN_HALL], 5

    started = time.monotonic()
    result = search_address("62 rue du Général Leclerc", demo_city)

    assert result == GeocodeResult((), available=False)
    assert 2.5 < time.monotonic() - started < 4


def test_the_address_of_a_position(app, ban):
    ban.addresses = [TOWN_HALL]

    assert reverse_address(TOWN_HALL.lat, TOWN_HALL.lon) == TOWN_HALL.label

    path, params = ban.requests[0]
    assert path.rstrip("/") == "/reverse"
    assert (float(params["lat"]), float(params["lon"])) == (TOWN_HALL.lat, TOWN_HALL.lon)


def test_the_geocoder_is_built_once_and_keeps_its_connection_open(app, ban):
    ban.addresses = [TOWN_HALL]

    for _ in range(3):
        with app.app_context():  # as three requests of one process
            assert reverse_address(TOWN_HALL.lat, TOWN_HALL.lon) == TOWN_HALL.label

    assert len(ban.requests) == 3
    assert ban.connections == 1


def test_another_configuration_gets_its_own_geocoder(app, ban):
    first = geocoder()
    app.config["GEOCODER_OPTIONS"] = {**ban.options, "domain": "127.0.0.1:9"}
    second = geocoder()
    assert second is not first and second.domain == "127.0.0.1:9"
    app.config["GEOCODER_OPTIONS"] = ban.options
    assert geocoder() is first


def test_a_position_without_a_known_address_has_none(app, ban):
    assert reverse_address(*ILE_SAINT_GERMAIN) is None


def test_no_address_when_the_geocoder_is_down_or_slow(app, ban):
    app.config["GEOCODER_TIMEOUT"] = 1
    ban.addresses, ban.delay = [TOWN_HALL], 3
    started = time.monotonic()
    assert reverse_address(TOWN_HALL.lat, TOWN_HALL.lon) is None
    assert time.monotonic() - started < 2


def test_no_address_when_nothing_listens(app, ban_down):
    assert reverse_address(TOWN_HALL.lat, TOWN_HALL.lon) is None


def test_reports_sent_while_the_geocoder_was_down_get_their_address_later(demo_city, ban):
    ban.addresses = []  # the geocoder has no answer while the reports are sent
    report = submit(demo_city, at=(TOWN_HALL.lat, TOWN_HALL.lon), address="")
    typed = submit(demo_city, address="Devant la mairie")
    db.session.commit()
    assert report.address == ""
    ban.addresses = [TOWN_HALL]

    assert fill_missing_addresses() == 1
    db.session.commit()

    assert report.address == TOWN_HALL.label
    assert typed.address == "Devant la mairie"
    assert fill_missing_addresses() == 0


def test_a_position_without_address_does_not_hold_up_the_others(demo_city, ban):
    filled = submit(demo_city, at=(TOWN_HALL.lat, TOWN_HALL.lon), address="")
    unknown = submit(demo_city, at=ILE_SAINT_GERMAIN, address="")  # newer: asked first
    ban.addresses = [TOWN_HALL]  # known to the geocoder only after they were sent
    ban.requests.clear()

    assert fill_missing_addresses() == 1

    assert (filled.address, unknown.address) == (TOWN_HALL.label, "")
    assert len(ban.requests) == 2


def test_filling_addresses_goes_by_batches_newest_first(demo_city, ban):
    now = utcnow()
    reports = [
        submit(
            demo_city, at=(TOWN_HALL.lat, TOWN_HALL.lon), address="", now=now - timedelta(hours=n)
        )
        for n in (3, 2, 1)
    ]
    ban.addresses = [TOWN_HALL]

    assert fill_missing_addresses(batch=2) == 2
    assert [report.address for report in reports] == ["", TOWN_HALL.label, TOWN_HALL.label]
    assert fill_missing_addresses(batch=2) == 1


def test_old_and_imported_reports_are_left_as_they_are(demo_city, ban):
    at = (TOWN_HALL.lat, TOWN_HALL.lon)
    old = submit(demo_city, at=at, address="", now=utcnow() - timedelta(days=8))
    imported = submit(demo_city, at=at, address="", source=Source.IMPORT)
    ban.addresses = [TOWN_HALL]

    assert fill_missing_addresses() == 0
    assert old.address == imported.address == ""


def test_filling_stops_at_once_when_the_geocoder_is_down(demo_city, ban_down):
    reports = [submit(demo_city, address="") for _ in range(3)]
    started = time.monotonic()

    assert fill_missing_addresses() == 0

    assert time.monotonic() - started < 1
    assert all(report.address == "" for report in reports)


@pytest.fixture
def plain_app(tmp_path):
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "tests"})
    with app.app_context():
        yield app


def test_the_national_address_base_is_the_default_geocoder(plain_app):
    service = geocoder()
    assert isinstance(service, BANFrance)
    assert service.domain == "api-adresse.data.gouv.fr"
    assert service.timeout == 3
    assert service.headers["User-Agent"] == "TellCity"


def test_another_geopy_geocoder_can_be_configured(plain_app):
    plain_app.config["GEOCODER"] = "nominatim"
    plain_app.config["GEOCODER_OPTIONS"] = {"domain": "nominatim.example.org"}
    service = geocoder()
    assert isinstance(service, Nominatim)
    assert service.domain == "nominatim.example.org"


def test_an_unknown_geocoder_is_a_configuration_error(plain_app):
    plain_app.config["GEOCODER"] = "no-such-geocoder"
    with pytest.raises(GeocoderNotFound):
        geocoder()
