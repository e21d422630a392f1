"""A request's life seen from an Open311 client: posted through Open311, triaged by the
department through the domain services, then read back — its status and notes, and the
public updates of mySociety's servicerequestupdates extension."""

from datetime import timedelta

import pytest

from tellcity.core.db import utcnow
from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.photos.services import process_upload
from tellcity.reports import services
from tellcity.reports.lifecycle import transition
from tellcity.reports.queries import report_by_reference
from tests.open311.helpers import (
    UPDATE_FIELDS,
    assert_absolute_url,
    assert_valid,
    assert_w3c,
    children,
    json_of,
    new_key,
    post,
    xml_of,
)
from tests.photos.images import camera_photo
from tests.reports.helpers import submit

UPDATES = "/open311/v2/servicerequestupdates"


def test_round_trip_from_open311_to_the_department_and_back(client, demo_city, staff):
    [created] = json_of(post(client, new_key()))
    reference = created["service_request_id"]

    report = report_by_reference(reference)
    agent = Actor.of(staff["agent.voirie"])
    transition(report, "acknowledged", agent, text="Nous passons demain.")
    services.add_note(report, "Prévoir l'enrobé à froid", agent)
    transition(report, "resolved", agent, text="Trou rebouché ce matin.")
    db.session.commit()

    [request] = json_of(client.get(f"/open311/v2/requests/{reference}.json"))
    assert_valid("requests.json", [request])
    assert request["status"] == "closed"
    assert request["status_notes"] == "Trou rebouché ce matin."
    root = xml_of(client.get(f"/open311/v2/requests/{reference}.xml"))
    assert root.findtext("request/status") == "closed"
    assert root.findtext("request/status_notes") == "Trou rebouché ce matin."

    updates = json_of(client.get(f"{UPDATES}.json"))
    assert [(u["status"], u["extended_status"], u["description"]) for u in updates] == [
        ("open", "acknowledged", "Nous passons demain."),
        ("closed", "resolved", "Trou rebouché ce matin."),
    ]  # not the internal note
    for update in updates:
        assert set(update) == UPDATE_FIELDS
        assert update["service_request_id"] == reference
        assert update["media_url"] is None
        assert_w3c(update["updated_datetime"])
    assert updates[0]["update_id"] != updates[1]["update_id"]
    assert all(isinstance(update["update_id"], str) for update in updates)


def test_updates_in_xml(client, demo_city, staff):
    report = submit(demo_city)
    transition(report, "acknowledged", Actor.of(staff["agent.voirie"]), text="Vu.")
    db.session.commit()
    root = xml_of(client.get(f"{UPDATES}.xml"))
    assert root.tag == "service_request_updates"
    [update] = root.findall("request_update")
    fields = children(update)
    assert set(fields) <= UPDATE_FIELDS
    assert fields["service_request_id"] == report.reference
    assert (fields["status"], fields["extended_status"]) == ("open", "acknowledged")
    assert fields["description"] == "Vu." and fields["media_url"] is None
    empty = client.get(f"{UPDATES}.xml", query_string={"end_date": "2001-01-01T00:00:00Z"})
    assert len(xml_of(empty)) == 0
    assert empty.data.endswith(b"<service_request_updates></service_request_updates>")


def test_a_reply_carries_the_status_the_report_had_then(client, demo_city, staff):
    report = submit(demo_city)
    agent = Actor.of(staff["agent.voirie"])
    transition(report, "in_progress", agent, text="Chantier lancé.")
    services.reply(report, "Merci pour votre patience.", agent)
    transition(report, "resolved", agent, text="Terminé.")
    db.session.commit()
    updates = json_of(client.get(f"{UPDATES}.json"))
    assert [(u["extended_status"], u["description"]) for u in updates] == [
        ("in_progress", "Chantier lancé."),
        ("in_progress", "Merci pour votre patience."),
        ("resolved", "Terminé."),
    ]


def test_a_photo_added_by_staff_is_the_updates_media(client, demo_city, staff):
    report = submit(demo_city)
    services.add_photos(report, [process_upload(camera_photo())], Actor.of(staff["agent.voirie"]))
    db.session.commit()
    [update] = json_of(client.get(f"{UPDATES}.json"))
    assert update["media_url"] == f"http://localhost/media/{report.photos[0].storage_key}"
    assert_absolute_url(update["media_url"])


def test_hidden_events_and_reports_give_no_updates(client, demo_city, staff):
    agent = Actor.of(staff["agent.voirie"])
    shown, hidden_report = submit(demo_city), submit(demo_city)
    event = transition(shown, "acknowledged", agent, text="Insulte modérée")
    event.is_hidden = True
    transition(shown, "in_progress", agent, text="En cours")
    transition(hidden_report, "acknowledged", agent, text="Vu")
    hidden_report.is_hidden = True
    db.session.commit()
    updates = json_of(client.get(f"{UPDATES}.json"))
    assert [u["description"] for u in updates] == ["En cours"]


@pytest.fixture
def spread(demo_city, staff):
    """Status changes 40, 10 and 1 days ago."""
    agent = Actor.of(staff["agent.voirie"])
    now = utcnow()
    report = submit(demo_city, now=now - timedelta(days=50))
    for days, status in ((40, "acknowledged"), (10, "in_progress"), (1, "acknowledged")):
        transition(report, status, agent, text=f"{days} days ago", now=now - timedelta(days=days))
    db.session.commit()
    return now


def test_updates_between_two_dates(client, spread):
    params = {
        "start_date": (spread - timedelta(days=20)).isoformat(),
        "end_date": (spread - timedelta(days=5)).isoformat(),
    }
    updates = json_of(client.get(f"{UPDATES}.json", query_string=params))
    assert [u["description"] for u in updates] == ["10 days ago"]
    everything = json_of(client.get(f"{UPDATES}.json"))
    assert [u["description"] for u in everything] == ["40 days ago", "10 days ago", "1 days ago"]
    paged = json_of(client.get(f"{UPDATES}.json", query_string={"page_size": 2, "page": 2}))
    assert [u["description"] for u in paged] == ["1 days ago"]


def test_updates_refuse_more_than_90_days(client, spread):
    params = {"start_date": "2026-01-01T00:00:00+01:00", "end_date": "2026-06-01T00:00:00+02:00"}
    [error] = json_of(client.get(f"{UPDATES}.json", query_string=params), 400)
    assert error["description"].endswith("at most 90 days apart")
    root = xml_of(client.get(f"{UPDATES}.xml", query_string={"start_date": "soon"}), 400)
    assert root.findtext("error/description").startswith("start_date: ")
