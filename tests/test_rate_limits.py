"""Each public write has a budget of its own per client address: using up one (filing reports on
the web form) leaves the others (the API, "me too", following, signing in) untouched."""

import pytest

from tellcity.extensions import db
from tests.reports.helpers import submit
from tests.web.helpers import form_tokens


@pytest.fixture
def report(demo_city):
    report = submit(demo_city, "pothole")
    db.session.commit()
    return report


def writes(report, csrf: dict) -> dict:
    """Every public write endpoint, with a request for it (accepted or refused: each counts)."""
    page = f"/reports/{report.reference}"
    report_json = {"category": "nope", "description": "Un trou", "lat": 48.82, "long": 2.27}
    return {
        "web report form": ("/report", {"data": csrf}),
        "web idea form": ("/idea", {"data": csrf}),
        "kept report sent": ("/report/send", {"headers": {"Origin": "http://localhost"}}),
        "API report": ("/api/v1/reports", {"json": report_json}),
        "API photo position": ("/api/v1/photos/gps", {"data": {}}),
        "API me too": (f"/api/v1{page}/support", {"json": {"supporter": "device-1"}}),
        "Open311 request": ("/open311/v2/requests.json", {"data": {"service_code": "x"}}),
        "me too": (f"{page}/support", {"data": csrf}),
        "follow": (f"{page}/follow", {"data": {**csrf, "email": "voisin@example.org"}}),
        "sign in": ("/account/signin", {"data": {**csrf, "email": "a@example.org"}}),
        "sign up": ("/account/signup", {"data": csrf}),
    }


def post_each(client, endpoints: dict) -> dict:
    """The status each endpoint answers its request with."""
    return {
        name: client.post(url, **request).status_code for name, (url, request) in endpoints.items()
    }


def test_each_public_write_has_its_own_budget(app, client, report):
    for limit in ("RATELIMIT_SUBMIT", "RATELIMIT_SUPPORT", "RATELIMIT_SIGNIN"):
        app.config[limit] = "1 per minute"
    csrf = {"csrf_token": form_tokens(client, "/account/signin")["csrf_token"]}
    endpoints = writes(report, csrf)
    first, again = post_each(client, endpoints), post_each(client, endpoints)
    assert {name for name, status in first.items() if status == 429} == set()
    assert {name for name, status in again.items() if status != 429} == set()
