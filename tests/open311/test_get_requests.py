"""A client reading service requests: the last 90 days by default, filters and their edges,
one request by its id, JSON valid against the Open311 schemas and XML with the spec's names."""

from datetime import UTC, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tellcity.core.db import utcnow
from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.reports.lifecycle import transition
from tellcity.reports.models import Report
from tests.open311.helpers import (
    REQUEST_FIELDS,
    assert_valid,
    assert_w3c,
    children,
    json_of,
    xml_of,
)
from tests.reports.helpers import ILE_SAINT_GERMAIN, category, submit

URL = "/open311/v2/requests.json"


def ids(client, **params) -> list[str]:
    found = json_of(client.get(URL, query_string=params))
    assert_valid("requests.json", found)
    return [request["service_request_id"] for request in found]


@pytest.fixture
def week(demo_city, staff):
    """Reports of the last days: two potholes (one resolved), graffiti, fly-tipping; and older,
    hidden and rejected ones that GET requests leaves out by default."""
    now = utcnow()
    agent = Actor.of(staff["agent.voirie"])
    made = {
        "pothole": submit(demo_city, "pothole", now=now - timedelta(days=1)),
        "graffiti": submit(demo_city, "graffiti", now=now - timedelta(days=2)),
        "resolved": submit(demo_city, "pothole", now=now - timedelta(days=3)),
        "dumping": submit(
            demo_city,
            "illegal-dumping",
            at=ILE_SAINT_GERMAIN,
            answers={"waste_type": "bulky"},
            now=now - timedelta(days=4),
        ),
        "old": submit(demo_city, "pothole", now=now - timedelta(days=100)),
        "hidden": submit(demo_city, "pothole", now=now - timedelta(hours=5)),
        "rejected": submit(demo_city, "pothole", now=now - timedelta(hours=6)),
    }
    transition(made["resolved"], "resolved", agent, text="Rebouché le 3 mars.")
    transition(made["rejected"], "rejected", agent, reason="spam")
    made["hidden"].is_hidden = True
    db.session.commit()
    return {name: report.reference for name, report in made.items()}


def test_by_default_the_public_requests_of_the_last_90_days_newest_first(client, week):
    assert ids(client) == [week[n] for n in ("pothole", "graffiti", "resolved", "dumping")]


def test_a_request_in_json(client, demo_city, week):
    found = json_of(client.get(URL))
    resolved = next(r for r in found if r["service_request_id"] == week["resolved"])
    assert set(resolved) == REQUEST_FIELDS
    assert resolved["status"] == "closed"
    assert resolved["status_notes"] == "Rebouché le 3 mars."
    assert resolved["service_code"] == "pothole"
    assert resolved["service_name"] == "Nid-de-poule, chaussée abîmée"
    assert resolved["agency_responsible"] == "Voirie et travaux"
    assert resolved["description"] == "Un trou profond devant l'entrée"
    assert (resolved["lat"], resolved["long"]) == (48.8245, 2.2735)
    assert resolved["media_url"] is None and resolved["address_id"] is None
    requested = assert_w3c(resolved["requested_datetime"])
    assert requested.utcoffset() in (timedelta(hours=1), timedelta(hours=2))  # Paris time
    updated = assert_w3c(resolved["updated_datetime"])
    assert updated > requested  # closed: the date it was closed
    assert assert_w3c(resolved["expected_datetime"]) > requested  # the SLA's due date
    fresh = next(r for r in found if r["service_request_id"] == week["pothole"])
    assert fresh["status"] == "open" and fresh["status_notes"] is None


def test_requests_in_xml(client, week):
    root = xml_of(client.get("/open311/v2/requests.xml"))
    assert root.tag == "service_requests"
    assert [r.findtext("service_request_id") for r in root.findall("request")] == ids(client)
    for request in root:
        assert request.tag == "request"
        assert set(children(request)) <= REQUEST_FIELDS
        assert {"service_request_id", "status", "service_code", "requested_datetime"} <= set(
            children(request)
        )
    fresh = children(root[0])
    assert fresh["status"] == "open"
    assert fresh["status_notes"] is None  # written empty: <status_notes></status_notes>
    assert fresh["lat"] == "48.8245" and fresh["long"] == "2.2735"
    assert_w3c(fresh["requested_datetime"])


def test_null_datetimes_are_left_out_of_xml(client, demo_city):
    category(demo_city, "pothole").sla_hours = None
    submit(demo_city, "pothole")
    db.session.commit()
    [request] = json_of(client.get(URL))
    assert request["expected_datetime"] is None
    root = xml_of(client.get("/open311/v2/requests.xml"))
    assert "expected_datetime" not in children(root.find("request"))
    assert children(root.find("request"))["media_url"] is None


def test_no_request_is_an_empty_list(client, demo_city):
    assert json_of(client.get(URL)) == []
    response = client.get("/open311/v2/requests.xml")
    assert len(xml_of(response)) == 0
    assert response.data.endswith(b"<service_requests></service_requests>")


def test_service_request_ids_override_every_other_filter(client, week):
    asked = f"{week['old']},{week['pothole']}, ,ISS-1999-000001,{week['hidden']}"
    found = ids(client, service_request_id=asked, status="closed", start_date="not a date")
    assert found == [week["old"], week["pothole"]]  # in the order asked, only public ones
    assert ids(client, service_request_id=[week["old"], week["pothole"]]) == found  # repeated
    assert ids(client, service_request_id="ISS-1999-000001") == []
    root = xml_of(
        client.get("/open311/v2/requests.xml", query_string={"service_request_id": asked})
    )
    assert [r.findtext("service_request_id") for r in root] == [week["old"], week["pothole"]]


def test_service_codes_as_a_comma_list_or_repeated(client, week):
    both = [week["graffiti"], week["dumping"]]
    assert ids(client, service_code="graffiti,illegal-dumping") == both
    assert ids(client, service_code=["graffiti", "illegal-dumping"]) == both
    assert ids(client, service_code="no-such-service") == []


def test_statuses_open_or_closed(client, week):
    assert ids(client, status="closed") == [week["resolved"]]
    assert week["resolved"] not in ids(client, status="open")
    assert len(ids(client, status="open,closed")) == len(ids(client, status=["open", "closed"]))
    assert len(ids(client, status="open,closed")) == 4
    errors = json_of(client.get(URL, query_string={"status": "open,fixed"}), 400)
    assert errors == [{"code": 400, "description": "status: status is open or closed"}]


def test_empty_parameters_count_as_absent(client, week):
    empty = {name: "" for name in ("status", "service_code", "start_date", "end_date", "page")}
    assert ids(client, **empty, jurisdiction_id="", service_request_id="") == ids(client)


def test_a_date_range(client, week):
    now = utcnow()
    start, end = now - timedelta(days=3, hours=12), now - timedelta(days=1, hours=12)
    found = ids(client, start_date=start.isoformat(), end_date=end.isoformat())
    assert found == [week["graffiti"], week["resolved"]]
    # Any offset, Z included.
    paris = ZoneInfo("Europe/Paris")
    zulu = start.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(client, start_date=zulu, end_date=end.astimezone(paris).isoformat()) == found
    # An unencoded + arrives as a space, and is understood.
    local_start, local_end = start.astimezone(paris), end.astimezone(paris)
    raw = f"start_date={local_start.isoformat()}&end_date={local_end.isoformat()}"
    assert "+" in raw
    unencoded = json_of(client.get(f"{URL}?{raw}"))
    assert [r["service_request_id"] for r in unencoded] == found


def test_a_start_alone_covers_90_days_from_it(client, week):
    start = utcnow() - timedelta(days=120)
    assert ids(client, start_date=start.isoformat()) == [week["old"]]
    end = utcnow() - timedelta(days=3, hours=12)
    assert ids(client, end_date=end.isoformat()) == [week["dumping"]]  # old is 100 days old


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-01T00:00:01Z"},
            "end_date: start_date and end_date may be at most 90 days apart",
        ),
        (
            {"start_date": "2026-02-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"},
            "end_date: end_date comes before start_date",
        ),
        ({"start_date": "yesterday"}, "start_date: not a W3C datetime"),
        ({"start_date": "2026-01-01T00:00:00"}, "start_date: give a date, a time and an offset"),
        ({"end_date": "2026-01-01"}, "end_date: give a date, a time and an offset"),
        ({"page": "0"}, "page: Must be greater than or equal to 1"),
        ({"page_size": "1001"}, "page_size: Must be greater than or equal to 1 and less"),
        ({"page_size": "ten"}, "page_size: Not a valid integer."),
        ({"bbox": "2.25,48.82,2.27"}, "bbox: bbox=west,south,east,north in degrees"),
        ({"bbox": "2.25,48.82,2.27,nan"}, "bbox: bbox=west,south,east,north in degrees"),
    ],
)
def test_bad_parameters_are_400s(client, week, params, message):
    [error] = json_of(client.get(URL, query_string=params), 400)
    assert error["code"] == 400 and error["description"].startswith(message), error
    root = xml_of(client.get("/open311/v2/requests.xml", query_string=params), 400)
    assert root.tag == "errors" and root.findtext("error/description") == error["description"]


def test_exactly_90_days_is_allowed(client, week):
    end = datetime(2026, 4, 1, tzinfo=UTC)
    params = {"start_date": (end - timedelta(days=90)).isoformat(), "end_date": end.isoformat()}
    assert client.get(URL, query_string=params).status_code == 200


def test_pages(client, week):
    everything = ids(client)
    assert ids(client, page_size=1) == everything[:1]
    assert ids(client, page_size=3, page=2) == everything[3:]
    assert ids(client, page_size=3, page=3) == []


def test_a_bounding_box(client, week):
    """bbox=west,south,east,north (the public map's extension): the requests inside it."""
    lat, lon = ILE_SAINT_GERMAIN
    around = f"{lon - 0.001},{lat - 0.001},{lon + 0.001},{lat + 0.001}"
    assert ids(client, bbox=around) == [week["dumping"]]
    assert ids(client, bbox=around, service_code="pothole") == []
    assert ids(client, bbox="2.2,48.8,2.3,48.9", page_size=2, page=2) == [
        week["resolved"],
        week["dumping"],
    ]


def test_a_page_read_again_shows_every_change(client, demo_city, week, staff):
    """Each request of a list is kept rendered by what it shows (ItemsCache): a page read
    again after a status change, a service renamed, or in another language or format, shows
    it at once."""

    def pothole(**headers) -> dict:
        found = json_of(client.get(URL, headers=headers))
        return next(r for r in found if r["service_request_id"] == week["pothole"])

    assert pothole()["status"] == "open" and pothole()["status_notes"] is None
    report = db.session.scalar(sa.select(Report).where(Report.reference == week["pothole"]))
    transition(report, "resolved", Actor.of(staff["agent.voirie"]), text="Rebouché ce matin.")
    db.session.commit()
    assert pothole()["status"] == "closed"
    assert pothole()["status_notes"] == "Rebouché ce matin."
    category(demo_city, "pothole").name_fr = "Trou dans la chaussée"
    db.session.commit()
    assert pothole()["service_name"] == "Trou dans la chaussée"
    assert pothole(**{"Accept-Language": "en"})["service_name"] == "Pothole, damaged road"
    root = xml_of(client.get("/open311/v2/requests.xml"))
    mine = next(
        r for r in root.findall("request") if r.findtext("service_request_id") == week["pothole"]
    )
    assert mine.findtext("service_name") == "Trou dans la chaussée"
    assert mine.findtext("status_notes") == "Rebouché ce matin."


def test_one_request_by_its_id_is_a_list_of_one(client, week):
    found = json_of(client.get(f"/open311/v2/requests/{week['resolved']}.json"))
    assert_valid("requests.json", found)
    assert [r["service_request_id"] for r in found] == [week["resolved"]]
    root = xml_of(client.get(f"/open311/v2/requests/{week['resolved']}.xml"))
    assert [r.findtext("service_request_id") for r in root.findall("request")] == [week["resolved"]]


@pytest.mark.parametrize("which", ["hidden", "rejected", None])
def test_hidden_rejected_or_unknown_requests_are_404s(client, week, which):
    reference = week[which] if which else "ISS-1999-000001"
    errors = json_of(client.get(f"/open311/v2/requests/{reference}.json"), 404)
    assert errors == [{"code": 404, "description": f"service_request_id {reference} not found"}]
    root = xml_of(client.get(f"/open311/v2/requests/{quote(reference)}.xml"), 404)
    assert root.findtext("error/code") == "404"


def test_extensions_add_the_history_photos_zone_and_support(client, week):
    found = json_of(client.get(URL, query_string={"extensions": "true"}))
    assert_valid("requests.json", found)
    resolved = next(r for r in found if r["service_request_id"] == week["resolved"])
    extended = resolved["extended_attributes"]
    assert extended == {
        "extended_status": "resolved",
        "zone": "Centre-ville (secteur de démo)",
        "attributes": [],  # no answer to the pothole's optional question
        "support_count": 0,
        "photos": [],
    }
    dumping = next(r for r in found if r["service_request_id"] == week["dumping"])
    assert dumping["extended_attributes"]["attributes"] == [
        {"code": "waste_type", "values": ["bulky"]}
    ]
    [note] = resolved["notes"]
    assert note["type"] == "status_change" and note["status"] == "resolved"
    assert note["description"] == "Rebouché le 3 mars."
    assert_w3c(note["datetime"])
    assert "notes" not in json_of(client.get(URL))[0]
    one = json_of(client.get(f"/open311/v2/requests/{week['resolved']}.json?extensions=true"))
    assert one[0]["notes"] == resolved["notes"]


def test_extensions_in_xml(client, week):
    params = {"extensions": "true", "service_request_id": week["resolved"]}
    root = xml_of(client.get("/open311/v2/requests.xml", query_string=params))
    request = root.find("request")
    assert request.findtext("extended_attributes/extended_status") == "resolved"
    assert request.findtext("extended_attributes/support_count") == "0"
    assert request.find("extended_attributes/photos") is not None
    params["service_request_id"] = week["dumping"]
    root = xml_of(client.get("/open311/v2/requests.xml", query_string=params))
    [answer] = root.findall("request/extended_attributes/attributes/attribute")
    assert answer.findtext("code") == "waste_type"
    assert [value.text for value in answer.findall("values/value")] == ["bulky"]
    [note] = request.findall("notes/note")
    assert note.findtext("status") == "resolved" and note.findtext("type") == "status_change"
