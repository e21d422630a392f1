"""A resident on their phone: report with a photo from where they stand, follow it, say
"me too", suggest an idea, switch language."""

import re

from playwright.sync_api import expect

from tellcity.extensions import db
from tests.e2e.conftest import screenshot
from tests.photos.images import camera_photo
from tests.reports.helpers import submit


def test_report_a_problem_with_a_photo_from_here_and_follow_it(phone, site, tmp_path):
    phone.goto("/")
    screenshot(phone, "home")
    phone.locator(".hero").get_by_role("link", name="Signaler un problème").click()
    phone.wait_for_url("**/report")
    phone.select_option("#category", "street-light")
    phone.get_by_role("button", name="Utiliser ma position").click()
    # Locator waits, not page.wait_for_function: the CSP forbids eval on our pages.
    expect(phone.locator("#lat")).not_to_have_value("")
    expect(phone.locator("#address")).not_to_have_value("")
    assert "Issy-les-Moulineaux" in phone.input_value("#address")
    picture = tmp_path / "lampadaire.jpg"
    picture.write_bytes(camera_photo())
    phone.set_input_files("#photos", str(picture))
    phone.wait_for_selector("#previews img")
    phone.fill("#description", "Le lampadaire clignote toute la nuit.")
    phone.fill("#email", "jeanne@example.org")
    screenshot(phone, "form")
    phone.get_by_role("button", name="Envoyer mon signalement").click()
    phone.wait_for_url(re.compile(r"/track/ISS-\d{4}-\d{6}/"))
    tracking = phone.url
    assert "Éclairage public" in phone.content()
    assert "nouveau" in phone.text_content(".badge")
    screenshot(phone, "tracking")
    reference = re.search(r"/track/([^/]+)/", tracking).group(1)
    other = phone.context.new_page()
    other.goto(tracking)
    assert reference in other.text_content(".reference")
    other.goto(f"/reports/{reference}")
    assert other.locator(".photos img").count() == 1
    assert "jeanne@example.org" not in other.content()


def test_me_too_on_a_similar_report_nearby(phone, site):
    _base, app = site
    with app.app_context():
        city = db.session.merge(load_demo_city(app))
        existing = submit(city, "pothole", at=(48.8247, 2.2736), description="Trou profond")
        db.session.commit()
        reference = existing.reference
    phone.goto("/report")
    phone.select_option("#category", "pothole")
    phone.get_by_role("button", name="Utiliser ma position").click()
    nearby = phone.locator("section.nearby")
    nearby.wait_for()
    assert reference in nearby.text_content()
    # Other tests file reports near the town hall too: "me too" on this one's card.
    card = nearby.locator("li.card").filter(has=phone.locator(f'a[href*="/{reference}"]'))
    card.get_by_role("button", name="Moi aussi").click()
    phone.wait_for_url(f"**/reports/{reference}#follow")  # then offered to follow it
    assert "votre soutien est compté" in phone.content()
    assert "1 personne a signalé la même chose" in phone.content()
    offer = phone.get_by_role(
        "heading", name="Merci ! Voulez-vous savoir ce qui se passe ensuite ?"
    )
    assert offer.is_visible() and phone.get_by_label("Votre courriel").is_visible()


def test_suggest_an_idea_without_a_place(phone):
    phone.goto("/")
    phone.locator(".hero").get_by_role("link", name="Proposer une idée").click()
    phone.wait_for_url("**/idea")
    phone.select_option("#category", "idea-mobility")
    phone.fill("#description", "Des arceaux vélos devant la gare RER.")
    phone.get_by_role("button", name="Envoyer mon idée").click()
    phone.wait_for_url(re.compile(r"/track/ISS-"))
    phone.goto("/ideas")
    assert "Des arceaux vélos devant la gare RER." in phone.content()
    screenshot(phone, "ideas")


def test_switch_to_english_and_back(phone):
    phone.goto("/report")
    assert phone.locator("h1").text_content() == "Signaler un problème"
    phone.locator(".lang").get_by_role("link", name="EN", exact=True).click()
    phone.wait_for_load_state()
    assert phone.locator("h1").text_content() == "Report a problem"
    assert phone.locator("html").get_attribute("lang") == "en"
    phone.locator(".lang").get_by_role("link", name="FR", exact=True).click()
    assert phone.locator("h1").text_content() == "Signaler un problème"


def load_demo_city(app):
    from tellcity.cities.queries import default_city

    return default_city()


def test_the_chosen_categorys_questions_are_asked_and_answered(phone):
    phone.goto("/report")
    dumping = phone.locator('fieldset.questions[data-category="illegal-dumping"]')
    expect(dumping).to_be_hidden()
    phone.select_option("#category", "illegal-dumping")
    expect(dumping).to_be_visible()
    expect(phone.locator('fieldset.questions[data-category="pothole"]')).to_be_hidden()
    phone.get_by_role("button", name="Utiliser ma position").click()
    expect(phone.locator("#lat")).not_to_have_value("")
    phone.fill("#description", "Un canapé abandonné sur le trottoir.")
    phone.get_by_role("button", name="Envoyer mon signalement").click()
    # No answer to the required question: the form comes back, the question marked.
    expect(dumping.locator(".field-error")).to_contain_text("Une réponse est requise.")
    expect(dumping).to_be_visible()
    screenshot(phone, "question-required")
    dumping.get_by_label("Nature du dépôt").select_option("bulky")
    phone.get_by_role("button", name="Envoyer mon signalement").click()
    phone.wait_for_url(re.compile(r"/track/ISS-\d{4}-\d{6}/"))
    assert "Encombrants" in phone.content()
