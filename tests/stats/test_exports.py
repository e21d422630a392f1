"""Every table of the statistics as CSV and JSON, with the page's filters; nothing about a
reporter in any of them, nor in the pages or the API."""

import csv
import io

import pytest

from tellcity.extensions import db
from tellcity.stats.schemas import TABLES
from tests.stats.helpers import CENTRE, RIVERSIDE, move, report, utc

MARKERS = ("Zorglub-Quetzal", "zorglub.quetzal@example.org", "06 98 76 54 32", "0698765432")
QUERY = "from=2025-04-01&to=2025-04-30"


@pytest.fixture
def marked(demo_city, staff):
    """Reports whose reporters have a name, an email address and a phone number found nowhere
    else: three at one place (a hotspot), closed and open, one elsewhere, and an idea about
    the whole city."""
    contact = {
        "reporter_name": MARKERS[0],
        "reporter_email": MARKERS[1],
        "reporter_phone": MARKERS[2],
    }
    filed = [
        report(demo_city, at=CENTRE, created=utc(2025, 4, 2, 8, n), **contact) for n in range(3)
    ]
    filed.append(report(demo_city, at=RIVERSIDE, created=utc(2025, 4, 3, 8), **contact))
    move(filed[0], "acknowledged", staff["agent.voirie"], utc(2025, 4, 2, 10))
    move(filed[1], "resolved", staff["agent.voirie"], utc(2025, 4, 4, 10))
    report(demo_city, "idea-environment", at=None, created=utc(2025, 4, 5, 8), **contact)
    db.session.commit()
    return filed


def outputs(client, demo_city) -> dict[str, str]:
    found = {"page": client.get(f"/staff/stats/?{QUERY}").text}
    found["monthly"] = client.get("/staff/stats/monthly?month=2025-04").text
    found["api"] = client.get(f"/api/v1/stats?{QUERY}").text
    for name in TABLES:
        for fmt in ("csv", "json"):
            response = client.get(f"/staff/stats/export/{name}.{fmt}?{QUERY}")
            assert response.status_code == 200, (name, fmt)
            found[f"{name}.{fmt}"] = response.text
    return found


def test_nothing_about_reporters_anywhere(client, login_as, demo_city, marked):
    login_as("admin")
    for where, text in outputs(client, demo_city).items():
        for marker in MARKERS:
            assert marker.lower() not in text.lower(), (where, marker)


@pytest.mark.parametrize("name", TABLES)
def test_each_table_as_csv_and_json(client, login_as, demo_city, marked, name):
    login_as("cabinet")
    as_csv = client.get(f"/staff/stats/export/{name}.csv?{QUERY}&zone=centre-ville")
    assert as_csv.mimetype == "text/csv"
    assert "attachment" in as_csv.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(as_csv.text)))
    assert rows[0] == TABLES[name].columns
    as_json = client.get(f"/staff/stats/export/{name}.json?{QUERY}&zone=centre-ville")
    document = as_json.json
    assert (document["table"], document["from"], document["to"]) == (
        name,
        "2025-04-01",
        "2025-04-30",
    )
    assert document["zone"] == "centre-ville"
    assert len(document["rows"]) == len(rows) - 1
    for line, record in zip(rows[1:], document["rows"], strict=True):
        assert sorted(record) == sorted(TABLES[name].columns)
        values = [record[column] for column in TABLES[name].columns]
        assert line == ["" if value is None else str(value) for value in values]


def test_exports_follow_the_filters(client, login_as, demo_city, marked):
    login_as("cabinet")
    everywhere = client.get(f"/staff/stats/export/zones.json?{QUERY}").json["rows"]
    assert {row["code"]: row["received"] for row in everywhere} == {
        "centre-ville": 3,
        "val-de-seine": 1,
        "": 1,  # the idea, about the whole city
    }
    centre = client.get(f"/staff/stats/export/zones.json?{QUERY}&zone=centre-ville").json["rows"]
    assert [(row["code"], row["received"], row["population"]) for row in centre] == [
        ("centre-ville", 3, 16800)
    ]
    hotspots = client.get(f"/staff/stats/export/hotspots.csv?{QUERY}").text.splitlines()
    assert len(hotspots) == 2 and hotspots[1].split(",")[-2:] == ["3", "2"]


def test_the_api_document(client, login_as, demo_city, marked):
    login_as("cabinet")
    document = client.get(f"/api/v1/stats?{QUERY}&period=week").json
    assert (document["from"], document["to"], document["period"]) == (
        "2025-04-01",
        "2025-04-30",
        "week",
    )
    assert document["previous"] == {"from": "2025-03-02", "to": "2025-03-31"}
    for key in (
        "received",
        "closed",
        "backlog",
        "time_to_acknowledge",
        "time_to_close",
        "median",
        "p90",
        "sla_compliance",
        "reopen_rate",
        "confirmed_fix_rate",
        "duplicates",
        "transfers",
        "per_1000",
        "hotspots",
        "suggestions",
    ):
        assert document["definitions"][key], key
    assert document["totals"]["received"] == 5
    assert document["headline"]["received"] == {
        "current": 5,
        "previous": 0,
        "change": None,
        "change_kind": "relative",
    }
    assert document["backlog"]["total"] == 4
    assert [age["from_days"] for age in document["backlog"]["ages"]] == [0, 2, 7, 30, 90]
    assert document["series"][0] == {"start": "2025-03-31", "received": 5, "closed": 1}
    assert {
        "departments",
        "categories",
        "zones",
        "top_categories",
        "hotspots",
        "suggestions",
        "outcomes",
    } <= set(document)
    assert document["departments"][0]["code"] == "voirie"
    assert document["zones"][0]["received_per_1000"] == pytest.approx(3 / 16.8)
    assert document["suggestions"][0]["support_count"] == 0
