"""The open data: every public report of the city, streamed as CSV or GeoJSON, narrowed to a
zone or a category when asked."""

import csv
import io
import json
from datetime import UTC, datetime

from tellcity.extensions import db
from tests.stats.helpers import CENTRE, RIVERSIDE, report

WHEN = datetime(2025, 3, 3, 8, tzinfo=UTC)


def references(client, query: str = "") -> tuple[list[str], list[str]]:
    """The references of the CSV, and of the GeoJSON, in their order; each answer streamed."""
    answers = [client.get(f"/open-data/reports.{fmt}{query}") for fmt in ("csv", "geojson")]
    assert all(answer.is_streamed for answer in answers)
    rows = csv.DictReader(io.StringIO(answers[0].get_data(as_text=True)))
    features = json.loads(answers[1].get_data(as_text=True))["features"]
    return (
        [row["reference"] for row in rows],
        [feature["properties"]["reference"] for feature in features],
    )


def test_the_open_data_streams_the_public_reports_of_a_zone_or_category(client, demo_city):
    centre = report(demo_city, at=CENTRE, created=WHEN)
    riverside = report(demo_city, at=RIVERSIDE, created=WHEN)
    light = report(demo_city, "street-light", at=CENTRE, created=WHEN)
    db.session.commit()
    every = [centre.reference, riverside.reference, light.reference]
    assert references(client) == (every, every)
    assert references(client, "?zone=val-de-seine") == ([riverside.reference],) * 2
    assert references(client, "?category=street-light") == ([light.reference],) * 2
    assert references(client, "?zone=nowhere") == ([], [])
