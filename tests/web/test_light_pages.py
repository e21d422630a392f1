"""Light pages for a phone on a metered connection: compressed when the client accepts it,
static files under content-hashed addresses cached for good, and error pages in the visitor's
language. (The bytes a real browser transfers are measured in tests/e2e/test_phone_budget.py.)"""

import gzip
import re

import brotli
import pytest

from tellcity.extensions import db
from tests.reports.helpers import submit
from tests.web.helpers import form_tokens

STATIC = re.compile(r'(?:href|src)="(/static/[^"?]+)\?v=([0-9a-f]{12})"')


def test_a_page_is_gzip_compressed_when_the_client_asks(client, demo_city):
    plain = client.get("/report")
    compressed = client.get("/report", headers={"Accept-Encoding": "gzip"})
    assert plain.headers.get("Content-Encoding") is None
    assert compressed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in compressed.headers["Vary"]
    page = gzip.decompress(compressed.data).decode()
    assert page.startswith("<!doctype html>") and "Signaler un problème" in page
    assert len(compressed.data) < len(plain.data) / 2


def test_static_files_have_hashed_addresses_cached_for_good(client, demo_city):
    page = client.get("/report").get_data(as_text=True)
    files = dict(STATIC.findall(page))
    assert "/static/css/tellcity.css" in files and "/static/js/map.js" in files
    for path, digest in files.items():
        answer = client.get(f"{path}?v={digest}", headers={"Accept-Encoding": "gzip"})
        assert answer.status_code == 200, path
        assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        plain = client.get(path).data
        if len(plain) > 1000:  # (Flask-Compress leaves the smallest as they are)
            assert answer.headers["Content-Encoding"] == "gzip", path
            assert int(answer.headers["Content-Length"]) == len(answer.data)
            assert gzip.decompress(answer.data) == plain


@pytest.mark.parametrize("query", ["", "?v=000000000000"])
def test_a_static_file_asked_without_its_current_hash_is_revalidated(client, query):
    answer = client.get(f"/static/css/tellcity.css{query}")
    assert answer.status_code == 200
    assert "immutable" not in answer.headers.get("Cache-Control", "")


def test_every_page_links_its_favicon(client, demo_city):
    page = client.get("/").get_data(as_text=True)
    icon = re.search(r'<link rel="icon" href="([^"]+)"', page).group(1)
    assert client.get(icon).status_code == 200


@pytest.mark.parametrize(
    ("language", "title", "explanation"),
    [
        ("en-GB,en;q=0.9", "Page not found", "This page does not exist, or no longer does."),
        ("fr-FR,fr;q=0.9", "Page introuvable", "Cette page n'existe pas, ou plus."),
    ],
)
def test_a_missing_page_says_so_in_the_visitors_language(client, language, title, explanation):
    answer = client.get("/no-such-page", headers={"Accept-Language": language})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 404
    assert f"<h1>{title}</h1>" in page
    assert explanation in page
    assert "The requested URL was not found" not in page


def test_a_bad_request_says_what_was_wrong_in_english_for_an_english_visitor(client):
    answer = client.get("/reports?q=%00", headers={"Accept-Language": "en"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "The request could not be understood" in page
    assert "NUL bytes are not allowed in parameters." in page


def test_a_too_large_upload_is_explained_in_french(app, client, demo_city):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    answer = client.post(
        "/report",
        data={"description": "x" * 5000},
        headers={"Accept-Language": "fr"},
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 413
    assert "Ce que vous avez envoyé est trop volumineux" in page
    assert "Envoyez des photos plus légères" in page


@pytest.mark.parametrize(
    ("language", "title"), [("en", "Something went wrong"), ("fr", "Une erreur est survenue")]
)
def test_a_crash_is_explained_in_the_visitors_language(app, language, title):
    @app.get("/crash-for-the-test")
    def crash():
        raise RuntimeError("a bug")

    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: a 500 page, not a traceback
    answer = app.test_client().get("/crash-for-the-test", headers={"Accept-Language": language})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 500
    assert f"<h1>{title}</h1>" in page
    assert "a bug" not in page


def test_too_many_sign_in_attempts_are_explained_in_french(app, client):
    app.config["RATELIMIT_SIGNIN"] = "1 per minute"
    tokens = form_tokens(client, "/account/signin")
    for _ in range(2):
        answer = client.post(
            "/account/signin",
            data={**tokens, "email": "jeanne@example.org", "password": "wrong"},
            headers={"Accept-Language": "fr"},
        )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 429
    assert "<h1>Trop de demandes</h1>" in page
    assert "Attendez une minute, puis réessayez." in page
    assert "per 1 minute" not in page


ANSWERS = [
    ("/", "text/html"),
    ("/open311/v2/services.json", "application/json"),
    ("/open311/v2/requests.json", "application/json"),
    ("/open311/v2/requests.xml", "text/xml"),
    ("/api/v1/categories", "application/json"),
    ("/reports/markers.json?bbox=2.2,48.8,2.3,48.85", "application/json"),
    ("/open-data/reports.geojson", "application/geo+json"),  # streamed
    ("/open-data/reports.csv", "text/csv"),  # streamed
]


@pytest.mark.parametrize("path, mimetype", ANSWERS)
def test_every_kind_of_answer_travels_compressed(client, demo_city, path, mimetype):
    for n in range(12):
        submit(demo_city, description=f"Nid-de-poule n° {n} devant le numéro {n + 1}")
    db.session.commit()
    plain = client.get(path)
    compressed = client.get(path, headers={"Accept-Encoding": "br"})
    assert plain.status_code == compressed.status_code == 200, path
    assert compressed.mimetype == mimetype
    assert plain.headers.get("Content-Encoding") is None
    assert compressed.headers["Content-Encoding"] == "br", path
    assert brotli.decompress(compressed.data) == plain.data
    assert len(compressed.data) < len(plain.data) / 2
