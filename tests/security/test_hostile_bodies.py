"""Bodies no program should send, sent to every endpoint that reads one: NUL bytes and lone
surrogates in any key or value, JSON nested 100,000 deep, JSON of 5 MB. Each is refused with
a 400 (or 413) a program can read, and nothing is written; a normal body still files a report.
On SQLite and PostgreSQL (which cannot store a NUL at all)."""

import base64
import io
import json
import os
import time

import pytest
import sqlalchemy as sa
from PIL import Image
from werkzeug.test import encode_multipart

from tellcity.extensions import db
from tellcity.notify.models import OutboxMessage
from tellcity.reports.models import Report, Support
from tests.admin.helpers import post as post_as_a_browser
from tests.open311.helpers import POTHOLE, new_key
from tests.photos.images import camera_photo, encode
from tests.reports.helpers import TOWN_HALL, category, department, submit
from tests.web.helpers import text

REPORT = {
    "category": "street-light",
    "lat": TOWN_HALL[0],
    "lon": TOWN_HALL[1],
    "description": "Lampadaire éteint devant la mairie",
    "name": "Jeanne Martin",
    "email": "jeanne@example.org",
    "attributes": {"lamp_number": "4521"},
}
DEEP = "[" * 100_000 + "]" * 100_000


def rows() -> tuple[int, int, int]:
    """How many reports, outbox messages and supports there are."""
    db.session.expire_all()
    return tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Report, OutboxMessage, Support)
    )


def with_text(inserted: str) -> list[tuple[str, dict]]:
    """The report with `inserted` in each place a resident's text goes, one place at a time."""
    attributes = REPORT["attributes"]
    return [
        ("description", {**REPORT, "description": f"Lampadaire {inserted} éteint"}),
        ("name", {**REPORT, "name": f"Jeanne{inserted}"}),
        ("address", {**REPORT, "address": f"12 rue{inserted}"}),
        ("attribute value", {**REPORT, "attributes": {"lamp_number": f"45{inserted}21"}}),
        ("attribute key", {**REPORT, "attributes": {**attributes, f"lamp{inserted}": "1"}}),
        ("new key", {**REPORT, f"extra{inserted}": "1"}),
        ("in a list", {**REPORT, "attributes": {"lamp_number": ["4521", f"a{inserted}"]}}),
    ]


def post_json(client, url: str, body: str | bytes, **kwargs):
    return client.post(url, data=body, content_type="application/json", **kwargs)


def error_code(response) -> str:
    return response.get_json()["error"]["code"]


@pytest.fixture
def public_report(demo_city):
    report = submit(demo_city, "pothole")
    db.session.commit()
    return report.reference


# --- /api/v1 -------------------------------------------------------------------------------


@pytest.mark.parametrize("escape", ["\\u0000", "\\ud800", "\\udfff", "\\ud800x"])
def test_a_nul_or_lone_surrogate_anywhere_in_a_report_is_a_400(client, demo_city, escape):
    expected = "nul_byte" if escape == "\\u0000" else "invalid_text"
    before = rows()
    for where, report in with_text("MARK"):
        body = json.dumps(report, ensure_ascii=False).replace("MARK", escape)
        response = post_json(client, "/api/v1/reports", body)
        assert response.status_code == 400, (where, response.data)
        assert error_code(response) == expected, where
    assert rows() == before


def test_a_raw_lone_surrogate_or_invalid_utf8_is_a_400(client, demo_city):
    before = rows()
    for raw in (b"\xed\xa0\x80", b"\xff\xfe", b"\xc3"):
        body = json.dumps(REPORT).encode().replace(b"devant", raw)
        response = post_json(client, "/api/v1/reports", body)
        assert response.status_code == 400, raw
        assert error_code(response) == "invalid_text"
    assert rows() == before


def test_a_nul_in_a_supporter_id_is_a_400(client, public_report):
    before = rows()
    url = f"/api/v1/reports/{public_report}/support"
    for escape, code in (("\\u0000", "nul_byte"), ("\\ud800", "invalid_text")):
        response = post_json(client, url, f'{{"supporter": "device-{escape}-1234"}}')
        assert response.status_code == 400 and error_code(response) == code
    assert rows() == before
    assert post_json(client, url, '{"supporter": "device-1234"}').status_code == 201


@pytest.mark.parametrize("url", ["/api/v1/reports", "/api/v1/reports/{ref}/support"])
@pytest.mark.parametrize("deep", [DEEP, '{"a":' * 100_000 + "1" + "}" * 100_000])
def test_json_nested_100000_deep_is_a_quick_400(client, public_report, url, deep):
    before = rows()
    started = time.perf_counter()
    response = post_json(client, url.format(ref=public_report), deep)
    assert time.perf_counter() - started < 2
    assert response.status_code == 400
    assert error_code(response) == "too_deep"
    assert rows() == before


def test_brackets_inside_strings_are_text_not_nesting(client, demo_city):
    report = {**REPORT, "description": "Lampadaire [[[[{{{{" * 20 + ' "\\ éteint'}
    response = client.post("/api/v1/reports", json=report)
    assert response.status_code == 201, response.data
    assert db.session.scalar(sa.select(Report.description)).endswith('"\\ éteint')


@pytest.mark.parametrize("url", ["/api/v1/reports", "/api/v1/reports/{ref}/support"])
def test_a_5_mb_json_body_is_a_413(client, public_report, url):
    before = rows()
    body = json.dumps({**REPORT, "description": "x" * (5 * 1024 * 1024)})
    english = {"Accept-Language": "en"}
    response = post_json(client, url.format(ref=public_report), body, headers=english)
    assert response.status_code == 413
    assert error_code(response) == "request_entity_too_large"
    assert response.get_json()["error"]["message"] == "A JSON body is at most 1 MB."
    assert rows() == before


def test_photos_may_still_be_larger_than_a_json_body(client, demo_city):
    """The 1 MB bound is for JSON: a multipart report carries photos of several MB."""
    noise = Image.frombytes("RGB", (1400, 1000), os.urandom(1400 * 1000 * 3))
    photo = encode(noise, "JPEG", quality=95)
    assert len(photo) > 1024 * 1024
    form = {k: v for k, v in REPORT.items() if k != "attributes"}
    form["photos"] = (io.BytesIO(photo), "photo.jpg")
    boundary, body = encode_multipart(form)  # in memory: the test client would spool it
    response = client.post(
        "/api/v1/reports", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 201, response.data


def test_a_normal_body_still_files_a_report(client, demo_city):
    before = rows()
    response = client.post("/api/v1/reports", json=REPORT)
    assert response.status_code == 201, response.data
    assert rows()[0] == before[0] + 1
    report = db.session.scalar(sa.select(Report))
    assert report.attributes == {"lamp_number": "4521"}


# --- forms and query strings ------------------------------------------------------------------


def test_a_nul_in_a_form_key_repeated_value_or_file_name_is_a_400(client, demo_city):
    form = {k: v for k, v in REPORT.items() if k != "attributes"}
    before = rows()
    attempts = [
        {**form, "extra\x00": "1"},
        {**form, "description": [form["description"], "second\x00"]},
        {**form, "photos": (io.BytesIO(camera_photo()), "photo\x00.jpg")},
    ]
    for data in attempts:
        response = client.post("/api/v1/reports", data=data, content_type="multipart/form-data")
        assert response.status_code == 400, data
        assert error_code(response) == "nul_byte"
    response = client.get("/api/v1/reports/nearby?lat=48.8&lat=48%00&lon=2.2")
    assert response.status_code == 400 and error_code(response) == "nul_byte"
    assert rows() == before


def test_invalid_utf8_percent_encodings_stay_inert_text(client, demo_city):
    """werkzeug leaves them as sent: no lone surrogate reaches the database, nothing crashes."""
    form = {k: v for k, v in REPORT.items() if k != "attributes"}
    body = "&".join(f"{k}={v}" for k, v in form.items()).replace("devant", "%ED%A0%80%FF")
    response = client.post(
        "/api/v1/reports", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 201, response.data
    assert "%ED%A0%80%FF" in db.session.scalar(sa.select(Report.description))
    assert client.get("/api/v1/geocode?q=%ED%A0%80%FF%C3").status_code < 500


# --- Open311 -------------------------------------------------------------------------------


def open311_error(response, status: int = 400) -> dict:
    assert response.status_code == status, response.data
    [error] = response.get_json()
    assert error["code"] == status
    return error


def test_open311_refuses_a_nul_in_any_form_field_in_its_error_list(client, demo_city):
    key = new_key()
    before = rows()
    attempts = [
        {**POTHOLE, "api_key": key, "description": "Trou\x00"},
        {**POTHOLE, "api_key": key, "attribute[size\x00]": "small"},
        {**POTHOLE, "api_key": key, "first_name": ["Jeanne", "J\x00"]},
        {**POTHOLE, "api_key": key, "media": (io.BytesIO(camera_photo()), "trou\x00.jpg")},
    ]
    for data in attempts:
        response = client.post(
            "/open311/v2/requests.json", data=data, content_type="multipart/form-data"
        )
        assert open311_error(response)["error_code"] == "nul_byte", data
    assert rows() == before


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({**POTHOLE, "description": "MARK"}).replace("MARK", "\\u0000\\ud800"),
        DEEP,
        json.dumps({**POTHOLE, "description": "x" * (5 * 1024 * 1024)}),
    ],
)
def test_open311_answers_a_hostile_json_body_in_its_error_list(client, demo_city, body):
    """Open311 takes forms: a JSON body is not read, so it is refused as a form without a key
    would be, quickly, in the spec's shape, and nothing is written."""
    key = new_key()
    before = rows()
    response = post_json(client, f"/open311/v2/requests.json?api_key={key}", body)
    assert 400 <= response.status_code < 500
    assert isinstance(response.get_json(), list) and response.get_json()[0]["description"]
    assert rows() == before


# --- the administration's JSON: a category's questions, a zones file ----------------------------


@pytest.fixture
def admin(client, login_as, demo_city):
    client.set_cookie("lang", "en")
    return login_as("admin")


@pytest.mark.parametrize(
    ("questions", "message"),
    [
        (DEEP, "The JSON is nested too deeply (at most 32 levels)."),
        (
            '[{"code": "a", "datatype": "text", "description": "A\\u0000"}]',
            "NUL bytes are not allowed in the body.",
        ),
        (
            '[{"code": "a", "datatype": "text", "description": "A\\udc00"}]',
            "The text is not valid Unicode",
        ),
    ],
    ids=["deep", "nul", "lone-surrogate"],
)
def test_a_categorys_questions_nested_too_deep_or_holding_a_nul_are_refused_clearly(
    client, admin, demo_city, questions, message
):
    data = {
        "kind": "problem",
        "code": "sinkhole",
        "name_fr": "Affaissement",
        "name_en": "Sinkhole",
        "department_id": str(department(demo_city, "voirie").id),
        "sla_hours": "8",
        "default_priority": "1",
        "attributes": questions,
    }
    response = post_as_a_browser(client, "/staff/admin/categories/new", data)
    assert response.status_code == 422
    assert message in text(response)
    assert category(demo_city, "sinkhole") is None


def test_a_zones_file_nested_too_deep_is_refused_clearly(client, admin, demo_city):
    deep = '{"type": "FeatureCollection", "features": ' + DEEP + "}"
    data = {"file": (io.BytesIO(deep.encode()), "zones.geojson"), "replace": "y"}
    url = "/staff/admin/zones/upload"
    response = post_as_a_browser(client, url, data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "The JSON is nested too deeply (at most 32 levels)." in text(response)


@pytest.mark.parametrize(
    "cursor", [b"[" * 5000 + b"]" * 5000, b'["2026-01-01\\u0000", 1]', b"\xed\xa0\x80"]
)
def test_a_crafted_queue_link_shows_the_first_page(client, login_as, demo_city, cursor):
    """The staff queue's "next page" link carries JSON: one made to crash it is ignored."""
    reference = submit(demo_city, "pothole").reference
    db.session.commit()
    login_as("agent.voirie")
    after = base64.urlsafe_b64encode(cursor).decode()
    response = client.get(f"/staff/?after={after}")
    assert response.status_code == 200
    assert reference in text(response)


def test_a_nul_in_a_path_is_a_400_not_a_database_error(client, demo_city):
    """PostgreSQL cannot even compare a NUL: a reference holding one is refused before a query."""
    for url in ("/reports/ISS%00", "/track/ISS%00/abc", "/api/v1/reports/ISS%00"):
        assert client.get(url).status_code == 400, url
    assert error_code(client.get("/api/v1/reports/ISS%00")) == "nul_byte"
    [error] = client.get("/open311/v2/requests/ISS%00.json").get_json()
    assert error["error_code"] == "nul_byte"
