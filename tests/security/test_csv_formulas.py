"""No text in any CSV export runs as a formula when the file is opened in a spreadsheet: a
cell starting with = + - @, a tab or a carriage return comes out after an apostrophe, in the
staff queue's export, the statistics tables and the open data alike."""

import csv
import io

import pytest

from tellcity.extensions import db
from tests.reports.helpers import category, submit

#: One planted text for each character a formula may start with.
PLANTED = [
    '=HYPERLINK("http://evil.example","clic")',
    "+SUM(A1:A9)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
CATEGORIES = ("pothole", "pavement", "road-marking", "bus-shelter", "graffiti", "street-light")


def read_csv(response) -> list[dict]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.text, newline="")))


def neutralised(values) -> bool:
    return sorted(values) == sorted("'" + text for text in PLANTED)


@pytest.fixture
def planted(demo_city):
    """A report in each of six categories, each category named and each description starting
    with one of the planted texts (as an import or an administrator could write them)."""
    for text, code in zip(PLANTED, CATEGORIES, strict=True):
        report = submit(demo_city, code)
        report.description = text
        found = category(demo_city, code)
        found.name_fr = found.name_en = text
    db.session.commit()


def test_the_staff_export(client, login_as, planted):
    login_as("admin")
    rows = read_csv(client.get("/staff/export.csv"))
    assert neutralised(row["description"] for row in rows)


def test_the_statistics_tables(client, login_as, planted):
    login_as("cabinet")
    rows = read_csv(client.get("/staff/stats/export/categories.csv"))
    assert neutralised(row["name"] for row in rows)


def test_the_open_data(client, planted):
    rows = read_csv(client.get("/open-data/reports.csv"))
    assert neutralised(row["description"] for row in rows)
