"""Whatever an Open311 client sends — query parameters or a form to post — it gets an answer
in the spec's shape (a 4xx with a list of errors, or the data), never a 5xx, and a refused
request writes nothing. SQL-shaped values are just text."""

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tellcity.extensions import db
from tellcity.reports.models import Report
from tests.open311.helpers import new_key

HOSTILE = st.sampled_from(
    [
        "",
        " ",
        "' OR 1=1 --",
        "1; DROP TABLE reports",
        "%",
        "_",
        "\\",
        "<x>",
        "\x00",
        "2026-13-45T99:00:00Z",
        "9999-01-01T00:00:00+00:00",
        "pothole,,",
        "open,closed,foo",
        "-1",
        "0",
        "1e309",
        "NaN",
        "ISS-2026-000001,ISS-1999-999999",
    ]
)
VALUE = HOSTILE | st.text(max_size=40) | st.integers().map(str)
GET_PARAMS = st.dictionaries(
    st.sampled_from(
        [
            "service_request_id",
            "service_code",
            "status",
            "start_date",
            "end_date",
            "jurisdiction_id",
            "page",
            "page_size",
            "extensions",
        ]
    ),
    VALUE,
    max_size=5,
)
POST_FORM = st.dictionaries(
    st.sampled_from(
        [
            "service_code",
            "lat",
            "long",
            "address_string",
            "address_id",
            "description",
            "email",
            "first_name",
            "last_name",
            "phone",
            "attribute[size]",
            "attribute[waste_type][]",
            "media_url",
            "device_id",
            "jurisdiction_id",
        ]
    ),
    VALUE | st.sampled_from(["pothole", "illegal-dumping", "48.8245", "2.2735"]),
    max_size=8,
)
SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def reports() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Report))


def assert_open311_answer(response, fmt: str) -> None:
    assert response.status_code < 500, response.status_code
    if response.status_code >= 400:
        if fmt == "json":
            assert isinstance(response.json, list) and "description" in response.json[0]
        else:
            assert b"<errors>" in response.data


@SETTINGS
@given(params=GET_PARAMS, fmt=st.sampled_from(["json", "xml"]))
def test_any_query_gets_an_answer_in_the_spec_s_shape(client, demo_city, params, fmt):
    response = client.get(f"/open311/v2/requests.{fmt}", query_string=params)
    assert_open311_answer(response, fmt)


@SETTINGS
@given(form=POST_FORM)
def test_any_posted_form_is_answered_and_a_refusal_writes_nothing(app, client, demo_city, form):
    app.config["RATELIMIT_SUBMIT"] = "1000000 per minute"
    key = getattr(demo_city, "_fuzz_key", None) or new_key(demo_city)
    demo_city._fuzz_key = key
    before = reports()
    response = client.post("/open311/v2/requests.json", data={**form, "api_key": key})
    assert_open311_answer(response, "json")
    db.session.rollback()
    if response.status_code >= 400:
        assert reports() == before, form
