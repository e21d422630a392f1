"""The app answers: health check, home page, error pages."""

import socket

import pytest

from tellcity import create_app


def test_healthz_reports_a_working_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def closed_port() -> int:
    """A port nothing listens on: one the system just gave out and took back."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    ("url", "details"),
    [
        ("postgresql://postgres@127.0.0.1:{port}/nowhere", ["127.0.0.1", "{port}"]),
        ("sqlite:////nonexistent-folder/tellcity.sqlite3", ["unable to open database file"]),
    ],
)
def test_healthz_says_503_and_only_the_log_says_why(tmp_path, caplog, url, details):
    port = closed_port()
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": url.format(port=port)})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "error", "database": "unavailable"}
    for detail in (detail.format(port=port) for detail in details):
        assert detail in caplog.text and detail not in response.get_data(as_text=True)


def test_home_page_without_a_city_says_how_to_load_the_demo(client):
    page = client.get("/").get_data(as_text=True)
    assert "tellcity demo" in page
    assert "issy-les-moulineaux" in page


def test_home_page_offers_the_two_actions_in_french_by_default(client, demo_city):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Dites-le à Issy-les-Moulineaux" in page
    assert "Signaler un problème" in page and "Proposer une idée" in page


def test_unknown_page_is_an_html_404_for_people(client):
    response = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "404" in response.get_data(as_text=True)


def test_unknown_api_path_is_a_json_404_for_programs(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
