"""Every error under /api/v1, the statistics API's included, answers in one shape:
{"error": {"code": a word, "message": a sentence, "fields": {field: [messages]}}}, whichever
part of the app refused the request."""

import pytest

from tellcity import create_app
from tests.conftest import _test_config
from tests.stats.test_access import api_key

#: A key of the right form (looked up in the database), that no database holds.
WELL_FORMED_KEY = "0" * 12 + ".secret"

#: (what, method, path, request options, who asks, status, code, fields at fault)
CASES = [
    ("no such path", "GET", "/api/v1/no-such-thing", {}, None, 404, "not_found", None),
    ("no such report", "GET", "/api/v1/reports/ISS-1999-000001", {}, None, 404, "not_found", None),
    ("wrong method", "DELETE", "/api/v1/reports", {}, None, 405, "method_not_allowed", None),
    ("short query", "GET", "/api/v1/geocode?q=a", {}, None, 400, "invalid_query", None),
    ("no position", "GET", "/api/v1/reports/nearby", {}, None, 400, "missing_position", "lat"),
    (
        "invalid input",
        "POST",
        "/api/v1/reports",
        {"json": {}},
        None,
        422,
        "validation_error",
        "category",
    ),
    ("not JSON", "POST", "/api/v1/reports", {"json": []}, None, 422, "invalid_json", None),
    ("bad filter", "GET", "/api/v1/stats?from=soon", {}, "cabinet", 422, "invalid", "from"),
    ("no credentials", "GET", "/api/v1/stats", {}, None, 401, "unauthorized", None),
    ("unknown key", "GET", "/api/v1/stats", {}, "unknown key", 401, "unauthorized", None),
    ("not for them", "GET", "/api/v1/stats", {}, "resident", 403, "forbidden", None),
    ("key without scope", "GET", "/api/v1/stats", {}, "open311 key", 403, "forbidden", None),
    ("no such city", "GET", "/api/v1/stats?city=atlantis", {}, "admin", 404, "not_found", None),
]


def assert_error_shape(response, status: int, code: str, field: str | None = None) -> None:
    assert response.status_code == status
    assert response.is_json and list(response.json) == ["error"]
    error = response.json["error"]
    assert set(error) <= {"code", "message", "fields"}
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    if field is not None:
        assert error["fields"][field] and all(isinstance(m, str) for m in error["fields"][field])


@pytest.mark.parametrize(
    ("method", "path", "options", "who", "status", "code", "field"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_error_in_one_shape(
    client, login_as, demo_city, method, path, options, who, status, code, field
):
    headers = {}
    if who in ("cabinet", "resident", "admin"):
        login_as(who)
    elif who == "unknown key":
        headers["Authorization"] = "Bearer tc_nope_AAAAAAAAAAAAAAAA"
    elif who == "open311 key":
        headers["X-Api-Key"] = api_key(demo_city, ["open311"])
    response = client.open(path, method=method, headers=headers, **options)
    assert_error_shape(response, status, code, field)
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    if status == 405:
        assert "POST" in response.headers["Allow"]


def test_the_rate_limit(app, client, demo_city):
    app.config["RATELIMIT_SUBMIT"] = "1 per minute"
    client.post("/api/v1/photos/gps")
    assert_error_shape(client.post("/api/v1/photos/gps"), 429, "too_many_requests")


def test_a_crash(app, client, demo_city):
    def crash():
        raise RuntimeError("a bug")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.add_url_rule("/api/v1/crash", view_func=crash)
    assert_error_shape(client.get("/api/v1/crash"), 500, "internal_server_error")


def test_the_database_gone(tmp_path):
    config = {**_test_config(tmp_path, "postgresql://postgres@127.0.0.1:1/nowhere")}
    client = create_app(config).test_client()
    for path in ("/api/v1/categories", "/api/v1/stats"):
        response = client.get(path, headers={"X-Api-Key": WELL_FORMED_KEY})
        assert_error_shape(response, 503, "unavailable")
        assert "Retry-After" in response.headers
