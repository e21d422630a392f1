"""The app answers: health check, home page, error pages."""

import pytest

from tellcity import create_app


def test_healthz_reports_a_working_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres@127.0.0.1:1/nowhere",  # nothing listens on port 1
        "sqlite:////nonexistent-folder/tellcity.sqlite3",
    ],
)
def test_healthz_says_503_and_why_when_the_database_is_unreachable(tmp_path, url):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": url})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "error"
    assert response.json["database"].startswith("unreachable: ")
    assert len(response.json["database"]) > len("unreachable: ")


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
