"""The reporter's private page, the public pages, languages and accounts."""

import html
import io
import re

import sqlalchemy as sa

from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.reports.lifecycle import transition
from tellcity.reports.links import tracking_url
from tellcity.reports.models import Subscription
from tests.photos.images import photo
from tests.reports.helpers import submit
from tests.web.helpers import form_tokens, post_form, text

PRIVATE = {
    "reporter_name": "Zoé Secretname",
    "reporter_email": "zoe.secret@example.org",
    "reporter_phone": "+33 6 99 88 77 66",
}


def filed(demo_city, **fields):
    report = submit(demo_city, "pothole", **{**PRIVATE, **fields})
    db.session.commit()
    return report


def test_the_tracking_link_is_private_and_unguessable(client, demo_city):
    report = filed(demo_city)
    url = tracking_url(report)
    assert client.get(url).status_code == 200
    assert client.get(url[:-2] + "xx").status_code == 404
    other = filed(demo_city)
    assert (
        client.get(tracking_url(other).rsplit("/", 1)[0] + "/" + url.rsplit("/", 1)[1]).status_code
        == 404
    )


def test_the_tracking_page_shows_status_department_date_and_timeline(client, demo_city, staff):
    report = filed(demo_city)
    transition(report, "acknowledged", Actor.of(staff["agent.voirie"]))
    db.session.commit()
    page = text(client.get(tracking_url(report)))
    assert "pris en compte" in page and "Voirie et travaux" in page
    assert "Prévu pour le" in page and "Ce qui s'est passé" in page


def test_the_reporter_comments_and_adds_a_photo(client, demo_city):
    report = filed(demo_city)
    url = tracking_url(report)
    response = post_form(client, f"{url}/comment", {"text": "Il s'agrandit."}, page=url)
    assert response.status_code == 302
    public = text(client.get(f"/reports/{report.reference}"))
    assert "Il s&#39;agrandit." in public
    response = post_form(
        client, f"{url}/photo", {"photo": [(io.BytesIO(photo()), "p.jpg")]}, page=url
    )
    assert response.status_code == 302
    db.session.refresh(report)
    assert len(report.photos) == 1


def test_following_and_unfollowing_by_email(client, demo_city):
    report = filed(demo_city)
    url = tracking_url(report)
    post_form(client, f"{url}/follow", {"email": "Voisin@Example.org"}, page=url)
    assert db.session.scalar(sa.select(Subscription.email)) == "voisin@example.org"
    assert "voisin@example.org" in text(client.get(url))
    refused = post_form(client, f"{url}/follow", {"email": "pas-une-adresse"}, page=url)
    assert refused.status_code == 422
    post_form(client, f"{url}/unfollow", {"email": "voisin@example.org"}, page=url)
    assert db.session.scalars(sa.select(Subscription)).all() == []


def test_the_reporter_can_stop_the_emails(client, demo_city):
    report = filed(demo_city)
    url = tracking_url(report)
    post_form(client, f"{url}/notifications", {"on": "0"}, page=url)
    db.session.refresh(report)
    assert report.notify_reporter is False


def test_public_pages_never_show_the_reporter(client, demo_city):
    report = filed(demo_city, description="Appelez-moi au 06 12 34 56 78 ou zoe@example.org")
    pages = [
        f"/reports/{report.reference}",
        "/reports",
        "/",
        f"/api/v1/reports/{report.reference}",
        "/reports/markers.json?bbox=2.2,48.8,2.3,48.9",
    ]
    for url in pages:
        body = text(client.get(url))
        for value in (*PRIVATE.values(), "06 12 34 56 78", "zoe@example.org"):
            assert value not in body, (url, value)
    page = text(client.get(f"/reports/{report.reference}"))
    assert "[numéro masqué]" in page and "[adresse masquée]" in page


def test_hidden_and_rejected_reports_are_not_public(client, demo_city, staff):
    hidden, spam = filed(demo_city), filed(demo_city)
    hidden.is_hidden = True
    transition(spam, "rejected", Actor.of(staff["agent.voirie"]), reason="spam")
    db.session.commit()
    for report in (hidden, spam):
        assert client.get(f"/reports/{report.reference}").status_code == 404
        assert client.get(f"/api/v1/reports/{report.reference}").status_code == 404
        assert report.reference not in text(client.get("/reports"))


def test_english_by_choice_or_by_browser(client, demo_city):
    assert "Signaler un problème" in text(client.get("/report"))
    english = client.get("/report", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "Report a problem" in text(english) and '<html lang="en">' in text(english)
    switch = client.get("/lang/en?next=/ideas")
    assert switch.status_code == 302 and switch.location == "/ideas"
    assert "Ideas from residents" in text(client.get("/ideas"))
    client.get("/lang/fr")
    assert "Les idées des habitants" in text(client.get("/ideas"))


def test_the_language_switch_never_sends_elsewhere(client, demo_city):
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.get("/lang/en", query_string={"next": target})
        assert response.location == "/"


def test_a_resident_account_lists_its_reports(client, demo_city):
    response = post_form(
        client,
        "/account/signup",
        {
            "name": "Jeanne",
            "email": "jeanne@example.org",
            "password": "correct horse battery",
            "confirm": "correct horse battery",
        },
    )
    assert response.status_code == 302
    post_form(
        client,
        "/report",
        {
            "category": "pothole",
            "lat": 48.8245,
            "lon": 2.2735,
            "description": "Trou devant chez moi",
            "not_a_duplicate": "y",
        },
    )
    page = text(client.get("/account/reports"))
    assert "Nid-de-poule" in page and "ISS-" in page
    client.post("/account/signout", data=form_tokens(client, "/account/reports"))
    assert client.get("/account/reports").status_code == 302


def test_sign_in_with_a_wrong_password_says_so(client, demo_city):
    response = post_form(
        client,
        "/account/signin",
        {"email": "resident@issy.example.org", "password": "not the password"},
    )
    assert response.status_code == 422
    assert "Adresse ou mot de passe incorrect." in text(response)


def main_text(response) -> str:
    """The words of the page's <main>: its flash messages and content, without the menus."""
    [main] = re.findall(r"<main\b.*?</main>", response.get_data(as_text=True), re.S)
    main = re.sub(r"<(script|style)\b.*?</\1>", " ", main, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", main)).split())


def test_an_idea_is_called_an_idea_from_its_filing_to_its_tracking_page(client, demo_city):
    filing = post_form(
        client,
        "/idea",
        {"category": "idea-mobility", "description": "Une piste cyclable", "email": "a@b.org"},
    )
    assert filing.status_code == 302
    url = filing.location
    first = main_text(client.get(url))
    assert "Merci ! Votre idée ISS-" in first and "a été transmise au service" in first
    assert "Suivre votre idée" in text(client.get(url))
    assert "pour suivre votre idée" in first and "Idée reçue" in first
    said = []
    post_form(client, f"{url}/comment", {"text": "Côté pair de la rue."}, page=url)
    said.append(main_text(client.get(url)))
    post_form(client, f"{url}/photo", {"photo": [(io.BytesIO(photo()), "p.jpg")]}, page=url)
    said.append(main_text(client.get(url)))
    post_form(client, f"{url}/notifications", {"on": "0"}, page=url)
    said.append(main_text(client.get(url)))
    assert "Votre commentaire est publié sur la page de l'idée." in said[0]
    assert "Votre photo a été ajoutée." in said[1]
    assert "Nous ne vous écrirons plus à propos de cette idée." in said[2]
    assert "Vous avez demandé à ne plus recevoir de courriels sur cette idée." in said[2]
    for words in (first, *said):
        assert "signalement" not in words.lower(), words


def test_a_problem_is_still_called_a_report(client, demo_city):
    report = filed(demo_city)
    words = main_text(client.get(tracking_url(report)))
    assert "pour suivre votre signalement" in words and "Signalement reçu" in words
