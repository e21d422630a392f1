"""Filing a report from the web form, without JavaScript, as a resident on a phone would."""

import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from tellcity.extensions import db
from tellcity.photos.services import file_path
from tellcity.reports.models import Photo, Report
from tests.geo.ban_server import TOWN_HALL as TOWN_HALL_ADDRESS
from tests.photos.images import ARTIST, camera_photo, photo
from tests.reports.helpers import EIFFEL_TOWER, TOWN_HALL, submit
from tests.web.helpers import form_tokens, post_form, text


def reports() -> list[Report]:
    return db.session.scalars(sa.select(Report).order_by(Report.id)).all()


def test_the_form_offers_problem_categories_grouped_in_french(client, demo_city):
    page = text(client.get("/report"))
    assert '<optgroup label="Voirie et trottoirs">' in page
    assert "Nid-de-poule, chaussée abîmée" in page
    assert "Autre idée" not in page
    ideas = text(client.get("/idea"))
    assert "Autre idée" in ideas and "Nid-de-poule" not in ideas


def test_a_problem_filed_by_address_reaches_its_department(client, demo_city, ban):
    ban.found = [TOWN_HALL_ADDRESS]
    response = post_form(
        client,
        "/report",
        {
            "category": "pothole",
            "address": "62 rue du Général Leclerc",
            "description": "Un trou profond devant la mairie",
            "email": "jeanne@example.org",
        },
    )
    assert response.status_code == 302
    assert re.fullmatch(r"/track/ISS-\d{4}-000001/[\w-]+", response.location)
    [report] = reports()
    assert (report.lat, report.lon) == (TOWN_HALL_ADDRESS.lat, TOWN_HALL_ADDRESS.lon)
    assert report.address == TOWN_HALL_ADDRESS.label
    assert report.department.slug == "voirie" and report.source == "web"
    page = text(client.get(response.location))
    assert "a été transmis au service : Voirie et travaux" in page
    assert "nouveau" in page and "Prévu pour le" in page


def test_with_the_geocoder_down_a_pinned_report_is_accepted_without_address(
    client, demo_city, ban_down
):
    response = post_form(
        client,
        "/report",
        {
            "category": "pothole",
            "lat": TOWN_HALL[0],
            "lon": TOWN_HALL[1],
            "description": "Trou",
        },
    )
    assert response.status_code == 302
    [report] = reports()
    assert report.address == ""  # filled in later by the worker


def test_with_the_geocoder_down_an_address_alone_cannot_place_the_report(
    client, demo_city, ban_down
):
    response = post_form(
        client,
        "/report",
        {
            "category": "pothole",
            "address": "62 rue du Général Leclerc",
            "description": "Trou",
        },
    )
    assert response.status_code == 422
    assert "La recherche d&#39;adresse n&#39;est pas disponible" in text(response)
    assert reports() == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"lat": EIFFEL_TOWER[0], "lon": EIFFEL_TOWER[1], "description": "Trou"},
            "hors des limites de la commune",
        ),
        (
            {"lat": TOWN_HALL[0], "lon": TOWN_HALL[1], "description": ""},
            "Décrivez le problème ou ajoutez une photo.",
        ),
        (
            {"lat": TOWN_HALL[0], "lon": TOWN_HALL[1], "description": "Trou", "email": "jeanne@"},
            "Cette adresse électronique n&#39;est pas valide.",
        ),
        (
            {
                "lat": TOWN_HALL[0],
                "lon": TOWN_HALL[1],
                "description": "Trou",
                "phone": "appelez-moi",
            },
            "Ce numéro de téléphone n&#39;est pas valide.",
        ),
        ({"description": "Trou"}, "Indiquez où se trouve le problème."),
    ],
)
def test_bad_input_brings_the_form_back_with_the_message(client, demo_city, fields, message):
    response = post_form(client, "/report", {"category": "pothole", **fields})
    assert response.status_code == 422
    page = text(response)
    assert message in page
    assert 'id="form-map-boundary"' in page  # the map shows the city limits
    assert "Trou" in page or not fields.get("description")  # what was typed is kept
    assert reports() == []


@pytest.mark.parametrize("category", ["nope", "idea-other"])
def test_an_unknown_or_wrong_kind_of_category_is_refused(client, demo_city, category):
    response = post_form(
        client,
        "/report",
        {"category": category, "lat": TOWN_HALL[0], "lon": TOWN_HALL[1], "description": "Trou"},
    )
    assert response.status_code == 422
    assert reports() == []


def test_an_inactive_category_is_refused(client, demo_city):
    db.session.execute(sa.text("UPDATE categories SET is_active = false WHERE code = 'pothole'"))
    db.session.commit()
    response = post_form(
        client,
        "/report",
        {"category": "pothole", "lat": TOWN_HALL[0], "lon": TOWN_HALL[1], "description": "Trou"},
    )
    assert response.status_code == 422 and reports() == []


def test_a_description_over_4000_characters_is_refused(client, demo_city):
    response = post_form(
        client,
        "/report",
        {
            "category": "pothole",
            "lat": TOWN_HALL[0],
            "lon": TOWN_HALL[1],
            "description": "x" * 4001,
        },
    )
    assert response.status_code == 422 and reports() == []


def upload(content: bytes, name="photo.jpg"):
    return (io.BytesIO(content), name)


def test_photos_are_stored_without_their_metadata_and_shown(app, client, demo_city):
    response = post_form(
        client,
        "/report",
        {
            "category": "pothole",
            "lat": TOWN_HALL[0],
            "lon": TOWN_HALL[1],
            "photos": [upload(camera_photo()), upload(photo(color=(0, 90, 200)), "b.png")],
        },
    )
    assert response.status_code == 302
    [report] = reports()
    assert len(report.photos) == 2 and report.description == ""
    folder = Path(app.config["UPLOAD_FOLDER"])
    stored = (folder / file_path(report.photos[0].storage_key)).read_bytes()
    assert ARTIST.encode() not in stored and b"Exif" not in stored
    page = text(client.get(f"/reports/{report.reference}"))
    thumb = f"/media/thumbs/{report.photos[0].thumbnail_key}"
    assert thumb in page
    with client.get(thumb) as served:
        assert served.status_code == 200 and served.mimetype == "image/jpeg"


def test_a_file_that_is_not_a_photo_is_refused_whatever_its_name(client, demo_city):
    html = b"<html><script>alert(1)</script></html>"
    response = post_form(
        client,
        "/report",
        {
            "category": "pothole",
            "lat": TOWN_HALL[0],
            "lon": TOWN_HALL[1],
            "description": "Trou",
            "photos": [upload(html, "holiday.jpg")],
        },
    )
    assert response.status_code == 422
    assert "photo" in text(response).lower()
    assert reports() == [] and db.session.scalars(sa.select(Photo)).all() == []


def test_at_most_three_photos(client, demo_city):
    response = post_form(
        client,
        "/report",
        {
            "category": "pothole",
            "lat": TOWN_HALL[0],
            "lon": TOWN_HALL[1],
            "description": "Trou",
            "photos": [upload(photo()) for _ in range(4)],
        },
    )
    assert response.status_code == 422
    assert "3 photos au plus" in text(response)
    assert reports() == []


def test_similar_reports_nearby_are_shown_first_and_the_photo_is_kept(client, demo_city):
    existing = submit(demo_city, "pothole", at=TOWN_HALL)
    db.session.commit()
    near = (TOWN_HALL[0] + 0.0005, TOWN_HALL[1])  # about 55 m north
    fields = {
        "category": "pothole",
        "lat": near[0],
        "lon": near[1],
        "description": "Trou",
        "photos": [upload(camera_photo())],
    }
    response = post_form(client, "/report", fields)
    page = text(response)
    assert response.status_code == 200
    assert "Est-ce le même problème ?" in page and existing.reference in page
    assert "1 photo reçue." in page
    assert len(reports()) == 1
    pending = re.search(r'name="pending_photos" type="hidden" value="([^"]+)"', page).group(1)
    again = client.post(
        "/report",
        content_type="multipart/form-data",
        data={
            "csrf_token": form_tokens(client, "/report")["csrf_token"],
            "submission_key": re.search(r'name="submission_key" value="([^"]+)"', page).group(1),
            "category": "pothole",
            "lat": near[0],
            "lon": near[1],
            "description": "Trou",
            "pending_photos": pending,
            "not_a_duplicate": "y",
            "questions_for": "pothole",  # the pothole's questions were on the page
        },
    )
    assert again.status_code == 302
    mine = reports()[-1]
    assert mine.id != existing.id and len(mine.photos) == 1


def test_a_closed_or_far_report_is_not_offered_as_the_same(client, demo_city):
    far = submit(demo_city, "pothole", at=(TOWN_HALL[0] + 0.003, TOWN_HALL[1]))  # ~330 m
    db.session.commit()
    response = post_form(
        client,
        "/report",
        {"category": "pothole", "lat": TOWN_HALL[0], "lon": TOWN_HALL[1], "description": "Trou"},
    )
    assert response.status_code == 302
    assert far.reference not in text(response)


def test_me_too_counts_once_per_browser(client, demo_city):
    existing = submit(demo_city, "pothole")
    db.session.commit()
    url = f"/reports/{existing.reference}"
    token = form_tokens(client, url)["csrf_token"]
    first = client.post(f"{url}/support", data={"csrf_token": token}, follow_redirects=True)
    assert "votre soutien est compté" in text(first)
    second = client.post(f"{url}/support", data={"csrf_token": token}, follow_redirects=True)
    assert "Vous aviez déjà apporté votre soutien" in text(second)
    db.session.refresh(existing)
    assert existing.support_count == 1
    assert "1 personne a signalé la même chose" in text(client.get(url))


def test_a_double_click_files_one_report(client, demo_city):
    tokens = form_tokens(client, "/report")
    fields = {
        **tokens,
        "category": "pothole",
        "lat": TOWN_HALL[0],
        "lon": TOWN_HALL[1],
        "description": "Trou",
        "not_a_duplicate": "y",
        "questions_for": "pothole",
    }
    first = client.post("/report", data=fields)
    second = client.post("/report", data=fields)
    assert first.status_code == second.status_code == 302
    assert first.location == second.location
    assert len(reports()) == 1


def test_a_double_click_is_not_shown_its_own_report_as_a_similar_one(client, demo_city):
    fields = {
        **form_tokens(client, "/report"),
        "category": "pothole",
        "questions_for": "pothole",
        "lat": TOWN_HALL[0],
        "lon": TOWN_HALL[1],
        "description": "Trou",
    }
    first = client.post("/report", data=fields)
    second = client.post("/report", data=fields)
    assert first.status_code == second.status_code == 302
    assert first.location == second.location and len(reports()) == 1


def test_a_form_without_csrf_token_is_refused(client, demo_city):
    response = client.post(
        "/report",
        data={
            "category": "pothole",
            "lat": TOWN_HALL[0],
            "lon": TOWN_HALL[1],
            "description": "Trou",
        },
    )
    assert response.status_code == 400
    assert reports() == []


def test_an_idea_needs_no_place(client, demo_city):
    response = post_form(
        client,
        "/idea",
        {"category": "idea-mobility", "description": "Une piste cyclable rue Camille Desmoulins"},
    )
    assert response.status_code == 302
    [idea] = reports()
    assert idea.kind == "suggestion" and idea.lat is None
    assert "piste cyclable" in text(client.get("/ideas"))


def test_the_home_page_links_to_each_form(client, demo_city):
    page = text(client.get("/"))
    assert re.search(r'href="/report"[^>]*>Signaler un problème<', page)
    assert re.search(r'href="/idea"[^>]*>Proposer une idée<', page)


def test_a_hanging_geocoder_never_holds_a_submission_sent_with_a_position(client, demo_city, ban):
    import time

    from tellcity.geo.geocoding import fill_missing_addresses

    ban.addresses, ban.delay = [TOWN_HALL_ADDRESS], 10  # the address server hangs
    started = time.monotonic()
    response = post_form(
        client,
        "/report",
        {"category": "pothole", "lat": TOWN_HALL[0], "lon": TOWN_HALL[1], "description": "Trou"},
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 302
    assert elapsed < 2 and ban.requests == []  # the submission never asked it
    [report] = reports()
    assert report.address == ""
    ban.delay = 0  # the worker fills the address in once the geocoder answers
    assert fill_missing_addresses() == 1
    db.session.commit()
    assert report.address == TOWN_HALL_ADDRESS.label
