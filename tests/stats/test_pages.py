"""The pages the mayor's office reads: headline figures against the previous period, charts each
followed by its data table, the hotspot map, a department's drill-down, the printable monthly
summary."""

import re

import pytest

from tests.reports.helpers import department

MARCH = "from=2025-03-01&to=2025-03-31"
CHARTS = {
    "series-table": "line",
    "backlog-table": "bar",
    "departments-table": "bar",
    "top-categories-table": "bar",
}


@pytest.fixture(autouse=True)
def english(client):
    """The pages in English, the language of the expected texts."""
    client.set_cookie("lang", "en")


def charts(html: str) -> dict[str, str]:
    """The data table each chart is drawn from, with its kind."""
    return {
        table: kind
        for kind, table in re.findall(
            r'<figure class="chart[^"]*" data-chart="(\w+)" data-table="([\w-]+)"', html
        )
    }


def test_overview(client, login_as, march):
    login_as("cabinet")
    page = client.get(f"/staff/stats/?{MARCH}")
    assert page.status_code == 200
    html = page.text
    # Headline figures first, against 29 January - 28 February.
    assert html.index('class="headline"') < html.index("<figure")
    assert "previous period: 1" in html  # received in February: f
    assert "+600%" in html  # 7 received against 1
    assert (
        "▲" in html and "change-neutral" in html and "change-bad" in html
    )  # more received; a bigger backlog
    # Every chart, and the table after it.
    assert charts(html) == CHARTS
    for table in CHARTS:
        assert html.index(f'data-table="{table}"') < html.index(
            f'<table class="stats-table" id="{table}"'
        )
    for table in (
        "categories-table",
        "zones-table",
        "outcomes-table",
        "suggestions-table",
        "hotspots-table",
    ):
        assert f'id="{table}"' in html
    assert "vendor/chart.js/chart.umd.js" in html and "js/stats.js" in html
    # The hotspot layer's map, drawn from its table: six reports by the town hall.
    assert 'id="hotspot-map"' in html and 'data-hotspots="hotspots-table"' in html
    assert html.count('data-count="') == 1 and 'data-count="6"' in html
    # Definitions, and exports with the same filters.
    assert 'id="definitions"' in html and "statistics.median" in html
    assert (
        "/staff/stats/export/zones.csv?city=issy-les-moulineaux&amp;from=2025-03-01&amp;to=2025-03-31"
        in html
    )


def test_drill_down_from_a_department(client, login_as, march, demo_city):
    login_as("admin")
    voirie = department(demo_city, "voirie")
    overview = client.get(f"/staff/stats/?{MARCH}").text
    link = f"/staff/stats/departments/{voirie.id}?city=issy-les-moulineaux&amp;from=2025-03-01"
    assert link in overview
    page = client.get(f"/staff/stats/departments/{voirie.id}?{MARCH}")
    assert page.status_code == 200
    html = page.text
    assert "<h1>Voirie et travaux</h1>" in html
    assert 'id="categories-table"' in html and 'id="zones-table"' in html
    assert 'id="departments-table"' not in html
    # Its categories: potholes only (b went to proprete, the street lights are eclairage's).
    categories = html[
        html.index('id="categories-table"') : html.index(
            "</table>", html.index('id="categories-table"')
        )
    ]
    assert "Pothole" in categories and "Street light" not in categories
    assert f"department={voirie.slug}" in html  # its exports keep the department


def test_monthly_summary(client, login_as, march):
    login_as("cabinet")
    page = client.get("/staff/stats/monthly?month=2025-03")
    assert page.status_code == 200
    html = page.text
    assert "summary of March 2025" in html or "summary of march 2025" in html.lower()
    assert 'id="monthly-headline"' in html and "Previous month" in html
    assert "data-print" in html and "css/stats.css" in html
    assert "?month=2025-02" in html and "?month=2025-04" in html
    with client.get("/static/css/stats.css") as css:
        assert "@media print" in css.text
    assert client.get("/staff/stats/monthly?month=March").status_code == 422


def test_the_filter_form_as_a_browser_sends_it(client, login_as, march):
    login_as("cabinet")
    query = (
        "from=2025-03-01&to=2025-03-31&department=&category=&zone=centre-ville&kind=&period=week"
    )
    page = client.get(f"/staff/stats/?{query}")
    assert page.status_code == 200
    assert '<option value="centre-ville" selected>' in page.text
    assert '<option value="week" selected>' in page.text


def test_the_page_refuses_nonsense_with_a_message(client, login_as, demo_city):
    login_as("cabinet")
    response = client.get("/staff/stats/?from=2025-03-02&to=2025-03-01")
    assert response.status_code == 422
    assert "The range ends before it starts." in response.text
