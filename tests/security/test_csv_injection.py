"""OWASP's leading characters of a formula, through every CSV export: a reporter's name, a
description, an address or a category's name starting with any of them (after spaces or
invisible characters too, or in a fullwidth form) comes out after an apostrophe, in the file
read back with the csv module; text that is no formula comes out as it was written."""

import csv
import io

import pytest
import sqlalchemy as sa

from tellcity.categories.models import Category
from tellcity.extensions import db
from tests.reports.helpers import submit

#: Texts a spreadsheet may run as a formula: OWASP's list of leading characters (= + - @, tab,
#: carriage return), a line feed, and each after what a spreadsheet skips or reads as the same.
PAYLOADS = [
    '=HYPERLINK("http://evil.example","clic")',
    "+SUM(A1:A9)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "\r\n=1+1",
    "\t",
    " =1+1",
    "   @SUM(1+9)",
    "\u00a0=1+1",  # a no-break space
    "\u3000=1+1",  # an ideographic space
    "\u200b=1+1",  # a zero-width space
    "\ufeff=1+1",  # a byte order mark
    "\x01=1+1",
    "\uff1d1+1",  # fullwidth =
    "\uff0bSUM(A1:A9)",  # fullwidth +
    "\uff0d2+3",  # fullwidth -
    "\uff20SUM(1+9)",  # fullwidth @
    "\ufe661+1",  # small =
    "\u22122+3",  # minus sign
]
#: Texts that are no formula, kept as written.
PLAIN = ["Trou rue Camille Desmoulins", " Banc cassé", "1 + 1 = 2", "'=déjà protégé"]


def read_csv(response) -> list[dict]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.text, newline="")))


def written_as(cells, texts) -> bool:
    """Whether `cells` hold each of `texts`, a formula after an apostrophe (and never as it
    is), the rest as it is."""
    cells = set(cells)
    expected = {"'" + t if t in PAYLOADS else t for t in texts}
    return expected <= cells and not cells & set(texts) & set(PAYLOADS)


@pytest.fixture
def planted(demo_city):
    """A report for each text, as its reporter's name, description and address (as an import
    or an old form could have stored them)."""
    for text in PAYLOADS + PLAIN:
        report = submit(demo_city, "pothole", reporter_name="Jeanne")
        report.reporter_name = report.description = report.address = text
    db.session.commit()


def test_the_staff_export_with_contact_details(client, login_as, planted):
    login_as("admin")
    rows = read_csv(client.get("/staff/export.csv?personal=1"))
    for column in ("reporter_name", "description", "address"):
        assert written_as((row[column] for row in rows), PAYLOADS + PLAIN), column


def test_the_open_data(client, planted):
    rows = read_csv(client.get("/open-data/reports.csv"))
    for column in ("description", "address"):
        assert written_as((row[column] for row in rows), PAYLOADS + PLAIN), column


def test_the_statistics_tables(client, login_as, demo_city):
    """Each category named after a text, with a report in it."""
    found = db.session.scalars(
        sa.select(Category).where(Category.city_id == demo_city.id, Category.kind == "problem")
    ).all()
    texts = (PAYLOADS + PLAIN)[: len(found)]
    for text, category in zip(texts, found, strict=False):
        submit(demo_city, category.code)
        category.name_fr = category.name_en = text
    db.session.commit()
    login_as("cabinet")
    rows = read_csv(client.get("/staff/stats/export/categories.csv"))
    assert len(texts) >= 16 and written_as((row["name"] for row in rows), texts)
