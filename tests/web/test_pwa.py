"""The installable app: its manifest and icons, its service worker, "My reports" on the phone,
and a report kept on the phone while offline, sent later (filed once, whatever the retries)."""

import io
import json
import re

import pytest
import sqlalchemy as sa
from PIL import Image

from tellcity.extensions import db
from tellcity.reports.models import Report
from tests.photos.images import camera_photo
from tests.reports.helpers import ILE_SAINT_GERMAIN
from tests.web.helpers import text

ORIGIN = {"Origin": "http://localhost"}


def reports() -> list[Report]:
    return db.session.scalars(sa.select(Report).order_by(Report.id)).all()


def kept_report(**fields) -> dict:
    """What static/js/offline.js sends: the web form's fields as the phone kept them."""
    return {
        "submission_key": "kept-on-the-phone-0001",
        "kind": "problem",
        "category": "illegal-dumping",
        "attribute[waste_type]": "bulky",
        "questions_for": "illegal-dumping",
        "lat": str(ILE_SAINT_GERMAIN[0]),
        "lon": str(ILE_SAINT_GERMAIN[1]),
        "address": "",
        "description": "Un canapé sur le trottoir",
        "email": "jeanne@example.org",
        "phone": "",
        **fields,
    }


def fetch(client, url: str, **kwargs):
    """GET a file, its response closed (static files are streamed from disk)."""
    with client.get(url, **kwargs) as response:
        response.get_data()
        return response


def send(client, data: dict, headers=ORIGIN, photos=()):
    body = {**data, "photos": [(io.BytesIO(content), "photo.jpg") for content in photos]}
    return client.post(
        "/report/send",
        data=body,
        headers={"Accept": "application/json", **headers},
        content_type="multipart/form-data",
    )


def test_the_manifest_describes_an_installable_app_in_the_visitors_language(client, demo_city):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data())
    assert manifest["name"] == "TellCity Issy-les-Moulineaux"
    assert manifest["short_name"] == "TellCity"
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/",
        "/",
        "standalone",
    )
    assert manifest["theme_color"] == "#0b5cad" and manifest["background_color"]
    assert manifest["lang"] == "fr" and "signalez" in manifest["description"].lower()
    english = client.get("/manifest.webmanifest", headers={"Accept-Language": "en"})
    assert json.loads(english.get_data())["lang"] == "en"
    assert {s["url"] for s in manifest["shortcuts"]} == {"/report", "/idea", "/mine"}


def test_the_manifest_icons_exist_at_their_sizes_and_one_is_maskable(client, demo_city):
    icons = json.loads(client.get("/manifest.webmanifest").get_data())["icons"]
    sizes = set()
    for icon in icons:
        response = fetch(client, icon["src"])
        assert response.status_code == 200 and response.mimetype == icon["type"] == "image/png"
        image = Image.open(io.BytesIO(response.get_data()))
        assert image.format == "PNG"
        assert f"{image.width}x{image.height}" == icon["sizes"]
        sizes.add((icon["sizes"], icon["purpose"]))
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    maskable = next(i for i in icons if i["purpose"] == "maskable")
    corner = Image.open(io.BytesIO(fetch(client, maskable["src"]).get_data())).convert("RGBA")
    assert corner.getpixel((0, 0))[3] == 255  # fills its square: the phone crops it


def test_every_page_links_the_manifest_and_the_home_screen_icon(client, demo_city):
    page = text(client.get("/"))
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    icon = re.search(r'<link rel="apple-touch-icon" href="([^"]+)"', page).group(1)
    assert fetch(client, icon).status_code == 200


def test_the_service_worker_controls_the_site_and_keeps_the_resident_pages(client, demo_city):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response.headers["Cache-Control"]
    script = text(response)
    pages = json.loads(re.search(r"var PAGES = (.*);", script).group(1))
    assert pages == ["/", "/report", "/idea", "/mine"]
    for page in pages:
        assert client.get(page).status_code == 200
    # Static files by the addresses the pages themselves write (content hashes included).
    files = json.loads(re.search(r"var FILES = (.*);", script).group(1))
    for url in files:
        assert fetch(client, url).status_code == 200, url
    imported = re.search(r'importScripts\("([^"]+)"\)', script).group(1)
    assert imported in text(client.get("/"))
    version = re.search(r'var CACHE = "tellcity-" \+ "(\w+)"', script).group(1)
    assert version in text(client.get("/sw.js"))  # the same until a deploy changes a file


def test_a_page_kept_for_offline_use_gives_a_first_visitor_no_session(client, demo_city):
    """The service worker's copy of a form, fetched while a first-time visitor opens the form
    itself, must not replace the visitor's session (and the CSRF token of their form)."""
    kept = client.get("/idea", headers={"X-TellCity-Keep": "1"})
    assert kept.status_code == 200 and 'name="csrf_token"' in kept.text
    assert "Set-Cookie" not in kept.headers
    assert client.get_cookie("session") is None
    # The visitor's own page starts their session; the worker's copy, fetched with it, keeps it.
    opened = client.get("/idea")
    assert "session=" in opened.headers["Set-Cookie"]
    session = client.get_cookie("session").value
    client.get("/report", headers={"X-TellCity-Keep": "1"})
    assert client.get_cookie("session").value == session
    sent = client.post("/idea", data={"csrf_token": csrf_of(opened.text), "description": ""})
    assert "CSRF" not in sent.text and sent.status_code != 400


def test_a_page_kept_for_offline_use_leaves_the_visitors_messages_for_their_page(client, demo_city):
    """Signing out, the service worker keeps the pages again while the visitor is sent home:
    the kept copies must not take the "signed out" message from the visitor's page."""
    client.get("/idea")  # a session
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Vous êtes déconnecté.")]
    kept = client.get("/report", headers={"X-TellCity-Keep": "1"}).text
    assert "Vous êtes déconnecté" not in kept
    assert "Vous êtes déconnecté" in client.get("/").text


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)[1]


def test_my_reports_is_offered_to_residents_without_an_account(client, demo_city):
    assert 'href="/mine"' in text(client.get("/"))
    page = text(client.get("/mine"))
    assert "Mes signalements" in page
    assert "gardés sur ce téléphone" in page


def test_a_report_kept_on_the_phone_is_filed_once_however_often_it_is_sent(client, demo_city):
    picture = camera_photo(size=(1200, 900))
    first = send(client, kept_report(), photos=[picture])
    assert first.status_code == 201, first.get_data(as_text=True)
    filed = first.get_json()
    assert re.fullmatch(r"ISS-\d{4}-\d{6}", filed["reference"])
    assert filed["title"] == "Dépôt sauvage" and filed["kind"] == "problem"
    again = send(client, kept_report(), photos=[picture])
    assert again.status_code == 200 and again.get_json() == filed
    [report] = reports()
    assert report.reference == filed["reference"] and report.source == "web"
    assert report.attributes == {"waste_type": "bulky"}
    assert len(report.photos) == 1
    assert report.reporter_email == "jeanne@example.org"
    page = text(client.get(filed["tracking_url"]))
    assert filed["reference"] in page and "Encombrants" in page


def test_a_kept_report_the_form_had_already_filed_is_not_filed_again(client, demo_city):
    """The form reached us but its answer never reached the phone, which kept it: same key."""
    from tests.web.helpers import post_form

    form = {k: v for k, v in kept_report().items() if k not in ("kind", "submission_key")}
    page = client.get("/report").get_data(as_text=True)
    key = re.search(r'name="submission_key" value="([^"]+)"', page).group(1)
    response = post_form(client, "/report", {**form, "submission_key": key, "not_a_duplicate": "y"})
    assert response.status_code == 302
    resent = send(client, kept_report(submission_key=key))
    assert resent.status_code == 200
    [report] = reports()
    assert resent.get_json()["reference"] == report.reference


@pytest.mark.parametrize(
    "headers", [{}, {"Origin": "https://elsewhere.example"}, {"Origin": "null"}]
)
def test_a_kept_report_is_refused_from_anywhere_but_our_pages(client, demo_city, headers):
    response = send(client, kept_report(), headers=headers)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "not_our_page"
    assert reports() == []


def test_a_kept_report_is_taken_from_the_public_address_behind_a_proxy(app, client, demo_city):
    """The proxy passes its own Host; the browser's Origin is the site's public address."""
    app.config["BASE_URL"] = "https://signalez.example.org"
    response = send(client, kept_report(), headers={"Origin": "https://signalez.example.org"})
    assert response.status_code == 201
    assert len(reports()) == 1


def test_a_kept_report_the_city_refuses_says_why_and_stores_nothing(client, demo_city):
    response = send(client, kept_report(**{"attribute[waste_type]": "", "lat": "", "lon": ""}))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["message"] and error["fields"]
    assert reports() == []
    no_key = send(client, kept_report(submission_key=""))
    assert no_key.status_code == 422 and reports() == []
