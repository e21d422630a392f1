"""Reports closed at a time nobody knows (imported with a closed status and no usable closing
time) have a line of their own, so that no report falls out of the figures: over a range that
covers every report, received = closed + closed, date unknown + backlog, in total and in every
department, category and zone."""

import csv
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from tellcity.cities.models import City
from tellcity.extensions import db
from tellcity.reports.states import Source
from tellcity.stats.figures import Figures, from_plain
from tests.stats.helpers import CENTRE, RIVERSIDE, move, report, stats, utc

LA_SAMPLE = Path(__file__).parent.parent / "imports" / "data" / "la_311_sample.csv"
CLOSED = {"Closed", "Cancelled", "Referred Out"}


def adds_up(figures: Figures) -> bool:
    return figures.received == figures.closed + figures.closed_undated + figures.backlog


def test_an_imported_city_adds_up_with_its_reports_closed_at_an_unknown_time(cli, app):
    with LA_SAMPLE.open(newline="", encoding="utf-8-sig") as f:
        rows = [row for row in csv.DictReader(f) if row["latitude"] and row["longitude"]]
    undated = sum(1 for row in rows if row["status"] in CLOSED and not row["closeddate"])
    assert undated > 0  # the sample has some: the test means something

    result = cli.invoke(args=["import-311", str(LA_SAMPLE), "--profile", "la"])
    assert result.exit_code == 0, result.output
    la = db.session.scalar(sa.select(City).where(City.slug == "los-angeles"))
    figures = stats(la, date(2019, 1, 1), date.today())

    assert figures.totals.received == len(rows)
    assert figures.totals.closed_undated == undated
    assert adds_up(figures.totals)
    for table in (figures.departments, figures.categories, figures.zones):
        assert all(adds_up(row.figures) for row in table)
    assert sum(row.figures.closed_undated for row in figures.departments) == undated


@pytest.fixture
def with_undated(demo_city, staff):
    """In March 2025: one report open, one resolved, one imported as closed with no date."""
    report(demo_city, created=utc(2025, 3, 3, 8))
    fixed = report(demo_city, created=utc(2025, 3, 4, 8))
    move(fixed, "resolved", staff["agent.voirie"], utc(2025, 3, 5, 8))
    imported = report(demo_city, at=RIVERSIDE, created=utc(2025, 3, 6, 8))
    imported.status, imported.closed_at, imported.source = "resolved", None, Source.IMPORT
    report(demo_city, at=CENTRE, created=utc(2025, 3, 7, 8))
    db.session.commit()
    return demo_city


def test_the_pages_and_the_api_show_the_line(client, login_as, with_undated):
    client.set_cookie("lang", "en")
    login_as("cabinet")
    march = "from=2025-03-01&to=2025-03-31"

    totals = stats(with_undated, date(2025, 3, 1), date(2025, 3, 31)).totals
    assert (totals.received, totals.closed, totals.closed_undated, totals.backlog) == (4, 1, 1, 2)

    page = client.get(f"/staff/stats/?{march}").text
    assert "Closed, date unknown" in page
    document = client.get(f"/api/v1/stats?{march}").json
    assert document["totals"]["closed_undated"] == 1
    assert "closed_undated" in document["definitions"]
    department = next(row for row in document["departments"] if row["closed_undated"])
    assert department["received"] == department["closed"] + 1 + department["backlog"]

    client.set_cookie("lang", "fr")
    assert "Clos, date inconnue" in client.get(f"/staff/stats/?{march}").text


def test_a_city_without_such_reports_shows_no_such_line(client, login_as, demo_city, staff):
    report(demo_city, created=utc(2025, 3, 3, 8))
    db.session.commit()
    client.set_cookie("lang", "en")
    login_as("cabinet")
    assert (
        "Closed, date unknown" not in client.get("/staff/stats/?from=2025-03-01&to=2025-03-31").text
    )


def test_figures_kept_before_the_line_existed_are_read_with_none_such():
    kept = {
        "received": 3,
        "duplicates": 0,
        "closed": 1,
        "closed_with_deadline": 0,
        "closed_on_time": 0,
        "resolved": 1,
        "confirmed": 0,
        "backlog": 2,
        "backlog_ages": [2, 0, 0, 0, 0],
        "time_to_acknowledge": {"count": 0, "median": None, "p90": None},
        "time_to_close": {"count": 1, "median": 60.0, "p90": 60.0},
    }
    figures = from_plain(Figures, kept)
    assert (figures.received, figures.closed_undated) == (3, 0)
