"""Answers clients poll are not sent twice: Open311's requests (the list and one request), the
API's categories and the public map's markers carry an ETag, a client that sends it back gets
a 304 with no body while nothing changed, and the full answer again as soon as a report is
added, moves, is answered or hidden, or the city's configuration changes."""

import pytest

from tellcity.categories.services import update_category
from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.reports import services
from tellcity.reports.lifecycle import transition
from tellcity.staff.services import hide_report
from tests.reports.helpers import category, submit

BBOX = "2.2,48.8,2.3,48.85"


@pytest.fixture
def city(demo_city):
    submit(demo_city, "pothole", description="Un premier trou")
    db.session.commit()
    return demo_city


def answers(report) -> dict[str, str]:
    return {
        "requests": "/open311/v2/requests.json",
        "requests in XML": "/open311/v2/requests.xml",
        "one request": f"/open311/v2/requests/{report.reference}.json",
        "markers": f"/reports/markers.json?bbox={BBOX}",
        "categories": "/api/v1/categories",
    }


def tags(client, urls: dict, **headers) -> dict[str, str]:
    found = {}
    for name, url in urls.items():
        response = client.get(url, headers=headers)
        assert response.status_code == 200, name
        assert response.headers["Cache-Control"] == "no-cache"
        found[name] = response.headers["ETag"]
        assert found[name].startswith('W/"'), name
    return found


def still(client, urls: dict, held: dict, **headers) -> set[str]:
    """The answers the client may keep: those answered 304 to its ETag."""
    kept = set()
    for name, url in urls.items():
        response = client.get(url, headers={"If-None-Match": held[name], **headers})
        if response.status_code == 304:
            assert response.data == b"", name
            assert response.headers["ETag"] == held[name]
            kept.add(name)
        else:  # the answer again (a hidden report's is a 404)
            assert response.status_code in (200, 404), name
            assert "ETag" not in response.headers or response.headers["ETag"] != held[name]
    return kept


def test_an_unchanged_answer_is_a_304(client, city):
    report = submit(city, "graffiti")
    db.session.commit()
    urls = answers(report)
    held = tags(client, urls)
    assert still(client, urls, held) == set(urls)
    # Compressed or not, the answer is the same one.
    assert still(client, urls, held, **{"Accept-Encoding": "br"}) == set(urls)
    # Another language is another answer.
    english = tags(client, urls, **{"Accept-Language": "en"})
    assert all(english[name] != held[name] for name in ("requests", "markers", "categories"))


def test_each_change_a_client_could_see_sends_the_answer_again(client, city, staff):
    report = submit(city, "graffiti")
    db.session.commit()
    urls = answers(report)
    agent = Actor.of(staff["admin"])  # who may act on any ticket of the city
    every_report_answer = {"requests", "requests in XML", "markers", "one request"}

    def after(change) -> set[str]:
        held = tags(client, urls)
        change()
        db.session.commit()
        return set(urls) - still(client, urls, held)

    assert after(lambda: submit(city, "pothole")) >= {"requests", "markers"}
    assert after(lambda: transition(report, "acknowledged", agent)) >= every_report_answer
    assert after(lambda: services.reply(report, "Nous passons demain.", agent)) >= {"one request"}
    graffiti = category(city, "graffiti")
    rename = {"name_fr": "Tags et graffitis", "name_en": "Graffiti"}
    changed = after(lambda: update_category(graffiti, rename, actor=Actor.of(staff["admin"])))
    assert "categories" in changed and "requests" in changed
    # Last: a hidden report's own answer is a 404 from then on.
    assert after(lambda: hide_report(report, agent, "Doublon d'un autre signalement")) >= {
        "requests",
        "markers",
    }


def test_a_supporter_changes_the_answers_too(client, city):
    report = submit(city, "graffiti")
    db.session.commit()
    urls = answers(report)
    held = tags(client, urls)
    assert services.add_support(report, supporter_key="device-42")
    db.session.commit()
    assert "requests" not in still(client, urls, held)


def test_an_import_sends_the_answers_again(client, cli, city, tmp_path):
    report = submit(city, "graffiti")
    db.session.commit()
    urls = {"requests": "/open311/v2/requests.json"}
    held = tags(client, urls)
    rows = tmp_path / "issy.csv"
    rows.write_text(
        "id,type,status,created,lat,lon,description\n"
        f"X-1,pothole,Open,2026-12-01 10:00,{report.lat},{report.lon},Un trou importé\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "issy.toml"
    mapping.write_text(
        f"""
name = "Issy test"
date_formats = ["%Y-%m-%d %H:%M"]

[city]
slug = "{city.slug}"
name = "{city.name}"
timezone = "{city.timezone}"
reference_prefix = "{city.reference_prefix}"

[columns]
id = "id"
created = "created"
category = "type"
status = "status"
lat = "lat"
lon = "lon"
description = "description"

[statuses]
"Open" = "new"
""",
        encoding="utf-8",
    )
    result = cli.invoke(args=["import-311", str(rows), "--mapping", str(mapping)])
    assert result.exit_code == 0, result.output
    assert "Imported 1 report" in result.output
    assert still(client, urls, held) == set()
