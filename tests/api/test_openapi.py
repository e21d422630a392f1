"""The OpenAPI document of /api/v1 describes the API as it is: every route is in it, and
schemathesis, generating requests from it against the real app with a demo city loaded, finds
no server error and no answer the document does not describe."""

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tellcity.api.openapi import PATHS
from tellcity.demo.reports import add_demo_reports
from tellcity.extensions import db
from tellcity.reports.models import Report
from tests.photos.images import camera_photo
from tests.reports.helpers import TOWN_HALL

#: What the document promises: no 5xx, and every answer (status, type, body) as it says.
#: Not checked: whether the API accepts every schema-valid input or refuses every invalid one
#: (schemathesis's positive_data_acceptance and negative_data_rejection): some views are
#: lenient on purpose — an out-of-range radius is clamped, an unknown position has no address.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
#: Schemathesis's WSGI transport asks for compression (as requests does) but reads the body as
#: it comes: ask for none. (The API's answers are compressed for the clients that ask:
#: tests/web/test_light_pages.py.)
PLAIN = {"Accept-Encoding": "identity"}
EXAMPLES = 15
OPERATIONS = [(path, method.upper()) for path, ops in PATHS.items() for method in ops]


@pytest.fixture
def api(app, demo_city):
    """The document, loaded by schemathesis from the app, with the demo city and its reports;
    limits raised so that the handlers, not the rate limiter, answer."""
    add_demo_reports(demo_city)
    db.session.commit()
    app.config.update(RATELIMIT_SUBMIT="10000 per minute", RATELIMIT_SUPPORT="10000 per minute")
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def test_the_document_is_openapi_3_1_with_the_report_schemas(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.json
    assert document["openapi"] == "3.1.0"
    schemas = document["components"]["schemas"]
    assert {"Category", "PublicReport", "CreatedReport", "NearbyReport", "ReportInput"} <= set(
        schemas
    )
    report = schemas["PublicReport"]["properties"]
    assert report["photos"]["items"] == {"$ref": "#/components/schemas/Photo"}
    assert report["lat"]["type"] == ["number", "null"]
    # The public schema has no field for the reporter, so neither has the document.
    assert not {"reporter_name", "reporter_email", "name", "email", "phone"} & set(report)


def test_every_route_of_the_api_is_documented(app):
    documented = {(path, method) for path, method in OPERATIONS}
    routes = {
        (rule.rule.replace("<", "{").replace(">", "}"), method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and rule.endpoint not in ("api.openapi", "api.docs")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == documented


def test_the_docs_page_lists_operations_parameters_and_schemas(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for path, _method in OPERATIONS:
        assert f"<code>{path}</code>" in page, path
    for text in ("Idempotency-Key", "radius_m", "PublicReport", "tracking_url", "Photo"):
        assert text in page
    assert "cdn" not in page.lower() and "https://" not in page.split("<main", 1)[1]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_generated_requests_get_documented_answers(api, path, method, mode):
    """Requests schemathesis makes from the document — valid ones, then invalid ones — get
    no server error and answers that match the document."""
    operation = api[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def answers_as_documented(case):
        case.call_and_validate(headers=PLAIN, checks=CHECKS)

    try:
        answers_as_documented()
    except Unsatisfiable:
        # Nothing in this operation can be made invalid (no parameter, or any string goes).
        assert mode == GenerationMode.NEGATIVE


def test_real_answers_match_the_document(api):
    """The answers random requests rarely reach: a report made, shown, supported, found."""
    report = db.session.scalar(sa.select(Report).where(Report.status == "new").order_by(Report.id))
    cases = [
        api["/api/v1/reports"]["POST"].Case(
            body={
                "category": "pothole",
                "lat": TOWN_HALL[0],
                "lon": TOWN_HALL[1],
                "description": "Trou",
            },
            media_type="application/json",
        ),
        api["/api/v1/reports/{reference}"]["GET"].Case(
            path_parameters={"reference": report.reference}
        ),
        api["/api/v1/reports/{reference}/support"]["POST"].Case(
            path_parameters={"reference": report.reference},
            body={"supporter": "device-12345678"},
            media_type="application/json",
        ),
        api["/api/v1/reports/nearby"]["GET"].Case(
            query={"lat": TOWN_HALL[0], "lon": TOWN_HALL[1], "radius_m": 1000}
        ),
        api["/api/v1/categories"]["GET"].Case(),
        api["/api/v1/photos/gps"]["POST"].Case(
            body={"photo": camera_photo()}, media_type="multipart/form-data"
        ),
    ]
    statuses = [case.call_and_validate(headers=PLAIN, checks=CHECKS).status_code for case in cases]
    assert statuses[:3] == [201, 200, 201] and statuses[3:] == [200, 200, 200]
