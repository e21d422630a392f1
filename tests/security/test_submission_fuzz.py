"""Whatever a client sends to POST /api/v1/reports, it gets a 201 or a clear 4xx with a
machine-readable body — never a 5xx — and a refused submission writes nothing."""

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tellcity.extensions import db
from tellcity.reports.models import Photo, Report, ReportEvent

TEXT = st.text(max_size=300) | st.sampled_from(
    ["", " ", "<script>alert(1)</script>", "' OR 1=1 --", "\x00", "é" * 4001, "NaN"]
)
VALUES = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | TEXT
PAYLOADS = (
    st.fixed_dictionaries(
        {},
        optional={
            "kind": VALUES | st.sampled_from(["problem", "suggestion"]),
            "category": VALUES | st.sampled_from(["pothole", "idea-other", "street-light"]),
            "lat": VALUES | st.floats(48.81, 48.835),
            "lon": VALUES | st.floats(2.23, 2.29),
            "address": VALUES,
            "description": VALUES,
            "name": VALUES,
            "email": VALUES | st.emails(),
            "phone": VALUES,
            "attributes": VALUES | st.dictionaries(st.text(max_size=10), VALUES, max_size=3),
        },
    )
    | st.lists(VALUES, max_size=3)
    | VALUES
)


def rows() -> tuple[int, int, int]:
    return tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Report, ReportEvent, Photo)
    )


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(payload=PAYLOADS)
def test_any_json_gets_a_clear_answer(app, client, demo_city, payload):
    app.config["RATELIMIT_SUBMIT"] = "1000000 per minute"
    before = rows()
    response = client.post("/api/v1/reports", json=payload)
    assert response.status_code in (201, 400, 404, 422), (payload, response.status_code)
    db.session.rollback()
    after = rows()
    if response.status_code == 201:
        assert after[0] == before[0] + 1
        assert response.json["reference"].startswith("ISS-")
    else:
        assert "error" in response.json and "code" in response.json["error"]
        assert after == before, payload


def test_a_nul_byte_in_any_parameter_is_a_400_and_writes_nothing(client, demo_city):
    before = rows()
    form = {"category": "pothole", "lat": "48.8245", "lon": "2.2735", "description": "a\x00b"}
    response = client.post("/api/v1/reports", data=form)
    assert response.status_code == 400 and response.json["error"]["code"] == "nul_byte"
    assert client.get("/reports", query_string={"q": "\x00"}).status_code == 400
    assert rows() == before
