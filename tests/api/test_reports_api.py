"""The resident flow as JSON under /api/v1."""

import io
import json

import pytest
import sqlalchemy as sa

from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.reports.lifecycle import transition
from tellcity.reports.models import Report
from tests.photos.images import camera_photo
from tests.reports.helpers import EIFFEL_TOWER, TOWN_HALL, submit

REPORT = {
    "category": "pothole",
    "lat": TOWN_HALL[0],
    "lon": TOWN_HALL[1],
    "description": "Trou dans la chaussée",
    "name": "Zoé Secretname",
    "email": "zoe.secret@example.org",
    "phone": "+33 6 99 88 77 66",
}


def count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Report))


def test_categories_in_french_or_english(client, demo_city):
    french = client.get("/api/v1/categories").json["categories"]
    pothole = next(c for c in french if c["code"] == "pothole")
    assert pothole["name"] == "Nid-de-poule, chaussée abîmée" and pothole["kind"] == "problem"
    assert pothole["attributes"][0]["code"] == "size"
    english = client.get("/api/v1/categories", headers={"Accept-Language": "en"}).json
    assert any(c["name"] == "Pothole, damaged road" for c in english["categories"])


def test_posting_a_report_answers_201_with_reference_and_tracking_link(client, demo_city):
    response = client.post("/api/v1/reports", json=REPORT)
    assert response.status_code == 201
    body = response.json
    assert body["reference"].startswith("ISS-") and body["status"] == "new"
    assert body["department"] == "Voirie et travaux"
    assert f"/track/{body['reference']}/" in body["tracking_url"]
    report = db.session.scalar(sa.select(Report))
    assert report.source == "api" and report.reporter_email == "zoe.secret@example.org"


def test_the_public_view_has_no_private_data(client, demo_city):
    reference = client.post("/api/v1/reports", json=REPORT).json["reference"]
    body = client.get(f"/api/v1/reports/{reference}")
    assert body.status_code == 200
    raw = json.dumps(body.json)
    for private in ("Secretname", "zoe.secret", "99 88 77 66", "tracking"):
        assert private not in raw
    assert body.json["category"]["code"] == "pothole" and body.json["open311_status"] == "open"


def test_an_idempotency_key_returns_the_first_answer(client, demo_city):
    headers = {"Idempotency-Key": "phone-42-attempt"}
    first = client.post("/api/v1/reports", json=REPORT, headers=headers)
    again = client.post("/api/v1/reports", json={**REPORT, "description": "retry"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)  # a replay, not a creation
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert first.json == again.json
    assert count() == 1


@pytest.mark.parametrize(
    ("change", "status", "field", "code"),
    [
        ({"category": None}, 422, "category", "validation_error"),
        ({"lat": 123.0}, 422, "position", "invalid_position"),
        ({"category": "unknown"}, 422, "category", "unknown_category"),
        ({"lat": EIFFEL_TOWER[0], "lon": EIFFEL_TOWER[1]}, 422, "position", "outside_city"),
        ({"email": "not-an-address"}, 422, "email", "invalid_email"),
        ({"description": "x" * 4001}, 422, "description", "too_long"),
        ({"description": "", "lat": None, "lon": None}, 422, "description", "empty"),
    ],
)
def test_bad_submissions_get_field_errors(client, demo_city, change, status, field, code):
    payload = {k: v for k, v in {**REPORT, **change}.items() if v is not None}
    response = client.post("/api/v1/reports", json=payload)
    assert response.status_code == status
    assert response.json["error"]["code"] == code
    assert field in response.json["error"]["fields"]
    assert count() == 0


def test_a_body_that_is_not_a_json_object_is_refused(client, demo_city):
    response = client.post("/api/v1/reports", data="[1, 2]", content_type="application/json")
    assert response.status_code == 422 and response.json["error"]["code"] == "invalid_json"


def test_multipart_with_a_photo(client, demo_city):
    data = {**REPORT, "photos": (io.BytesIO(camera_photo()), "p.jpg")}
    response = client.post("/api/v1/reports", data=data, content_type="multipart/form-data")
    assert response.status_code == 201
    public = client.get(f"/api/v1/reports/{response.json['reference']}").json
    assert len(public["photos"]) == 1 and "/media/thumbs/" in public["photos"][0]["thumbnail_url"]


def test_nearby_lists_open_reports_of_the_category_within_the_radius(client, demo_city, staff):
    near = submit(demo_city, "pothole", at=(TOWN_HALL[0] + 0.0005, TOWN_HALL[1]))
    submit(demo_city, "pothole", at=(TOWN_HALL[0] + 0.003, TOWN_HALL[1]))  # 330 m
    submit(demo_city, "street-light", at=TOWN_HALL)
    closed = submit(demo_city, "pothole", at=TOWN_HALL)
    transition(closed, "resolved", Actor.of(staff["agent.voirie"]), text="Fait")
    db.session.commit()
    found = client.get(
        "/api/v1/reports/nearby",
        query_string={"lat": TOWN_HALL[0], "lon": TOWN_HALL[1], "category": "pothole"},
    ).json["reports"]
    assert [r["reference"] for r in found] == [near.reference]
    assert 50 <= found[0]["distance_m"] <= 60
    missing = client.get("/api/v1/reports/nearby", query_string={"lat": TOWN_HALL[0]})
    assert missing.status_code == 400 and "lon" in missing.json["error"]["fields"]


def test_support_counts_once_per_device(client, demo_city):
    report = submit(demo_city)
    db.session.commit()
    url = f"/api/v1/reports/{report.reference}/support"
    first = client.post(url, json={"supporter": "device-1234"})
    again = client.post(url, json={"supporter": "device-1234"})
    other = client.post(url, json={"supporter": "device-5678"})
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert (first.json["counted"], again.json["counted"]) == (True, False)
    assert other.json["support_count"] == 2
    assert client.post(url, json={}).status_code == 422


def test_a_closed_report_takes_no_support(client, demo_city, staff):
    report = submit(demo_city)
    transition(report, "resolved", Actor.of(staff["agent.voirie"]), text="Fait")
    db.session.commit()
    response = client.post(
        f"/api/v1/reports/{report.reference}/support", json={"supporter": "device-1234"}
    )
    assert response.status_code == 422 and response.json["error"]["code"] == "closed"


def test_unknown_reports_are_json_404s(client, demo_city):
    response = client.get("/api/v1/reports/ISS-1999-000001")
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_public_writes_are_rate_limited(app, client, demo_city):
    app.config["RATELIMIT_SUBMIT"] = "3 per minute"
    answers = [
        client.post("/api/v1/reports", json={**REPORT, "category": "nope"}).status_code
        for _ in range(4)
    ]
    assert answers == [422, 422, 422, 429]
    assert client.post("/api/v1/reports", json=REPORT).json["error"]["code"] == "too_many_requests"


@pytest.mark.parametrize(
    ("attributes", "code", "field"),
    [
        ({}, "answer_required", "attributes.waste_type"),
        ({"waste_type": "plutonium"}, "answer_not_offered", "attributes.waste_type"),
        ({"waste_type": "bulky", "colour": "red"}, "unknown_question", "attributes.colour"),
        ({"waste_type": {"nested": "object"}}, "invalid_answer", "attributes.waste_type"),
        # As many and as long as a JSON body may be (1 MB; past it, a 413:
        # tests/security/test_hostile_bodies.py).
        ({f"key{n}": "x" for n in range(50_000)}, "too_many_answers", "attributes"),
        ({"waste_type": "bulky", "colour": "x" * 1_000_000}, "unknown_question", None),
        ("not an object", "invalid_answer", "attributes"),
    ],
    ids=["missing", "not-offered", "unknown-key", "nested", "50k-keys", "1MB", "not-object"],
)
def test_answers_are_checked_like_every_front_end_does(client, demo_city, attributes, code, field):
    payload = {**REPORT, "category": "illegal-dumping", "attributes": attributes}
    response = client.post("/api/v1/reports", json=payload)
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == code
    assert field is None or field in error["fields"]
    assert len(response.data) < 10_000  # a refusal never echoes what was sent
    assert count() == 0


def test_answers_are_stored_tidied(client, demo_city):
    payload = {**REPORT, "category": "illegal-dumping", "attributes": {"waste_type": " bulky "}}
    response = client.post("/api/v1/reports", json=payload)
    assert response.status_code == 201
    assert db.session.scalar(sa.select(Report.attributes)) == {"waste_type": "bulky"}
