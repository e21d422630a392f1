"""A resident on their phone with a bad connection: the app installed by a first visit, a report
with a big camera photo filed while offline waits on the phone, then goes by itself when the
connection comes back (once, with a photo made smaller on the phone), and the resident's pages
open without a connection."""

import re
from urllib.parse import urlsplit

import sqlalchemy as sa
from PIL import Image
from playwright.sync_api import expect

from tellcity.accounts.models import User
from tellcity.extensions import db
from tellcity.reports.models import Report
from tests.e2e.conftest import screenshot
from tests.e2e.test_accessibility import AXE, RUN_AXE
from tests.photos.images import encode

WAITING = "En attente d'envoi"
#: A report in "My reports" once filed: its reference.
FILED = re.compile(r"ISS-\d{4}-\d{6}")


def big_camera_photo() -> bytes:
    """A 12-megapixel JPEG of about 5 MB, as a phone's camera writes one: smooth shapes and
    fine grain, which survive a JPEG's compression like a photo's detail does."""
    width, height = 4000, 3000
    shapes = Image.effect_noise((width // 8, height // 8), 70).resize(
        (width, height), Image.Resampling.BICUBIC
    )
    grain = Image.effect_noise((width, height), 10)
    light = Image.linear_gradient("L").resize((width, height))
    image = Image.merge(
        "RGB",
        (
            Image.blend(shapes, light, 0.5),
            Image.blend(grain, light.transpose(Image.Transpose.FLIP_LEFT_RIGHT), 0.6),
            Image.blend(shapes.transpose(Image.Transpose.FLIP_TOP_BOTTOM), grain, 0.4),
        ),
    )
    return encode(image, "JPEG", quality=95)


def install_the_app(page, path: str) -> None:
    """Open a page online and wait until the service worker has kept the pages for offline."""
    page.goto(path)
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")


def reports_described(app, description: str) -> list[dict]:
    """The stored reports with this description: reference, category, photos' sizes."""
    with app.app_context():
        found = db.session.scalars(sa.select(Report).where(Report.description == description))
        reports = [
            {
                "reference": report.reference,
                "category": report.category.code,
                "photos": [(photo.width, photo.height) for photo in report.photos],
            }
            for report in found
        ]
        db.session.remove()
    return reports


def test_a_report_filed_offline_waits_on_the_phone_then_is_sent_once(phone, site, tmp_path):
    _base, app = site
    description = "Le lampadaire de la place est éteint (envoyé hors ligne)."
    install_the_app(phone, "/report")
    sending = []
    phone.context.on(
        "request",
        lambda request: sending.append(request) if request.url.endswith("/report/send") else None,
    )
    phone.context.set_offline(True)

    phone.select_option("#category", "street-light")
    phone.get_by_role("button", name="Utiliser ma position").click()
    expect(phone.locator("#lat")).not_to_have_value("")
    original = big_camera_photo()
    assert len(original) > 4_500_000
    picture = tmp_path / "lampadaire.jpg"
    picture.write_bytes(original)
    phone.set_input_files("#photos", str(picture))
    phone.fill("#description", description)
    phone.fill("#email", "jeanne@example.org")
    phone.get_by_role("button", name="Envoyer mon signalement").click()

    expect(phone.get_by_text(WAITING)).to_be_visible()
    expect(phone.get_by_text("Pas de connexion : votre signalement est gardé")).to_be_visible()
    screenshot(phone, "offline-waiting")
    phone.evaluate(AXE)
    assert phone.evaluate(RUN_AXE) == []
    assert reports_described(app, description) == []

    phone.context.set_offline(False)
    thanks = phone.get_by_text(re.compile(r"Merci ! Votre signalement ISS-\d{4}-\d{6} a été"))
    expect(thanks).to_be_visible()
    reference = re.search(r"ISS-\d{4}-\d{6}", thanks.text_content()).group(0)
    follow = phone.get_by_role("link", name="Suivre votre signalement")
    expect(follow).to_have_attribute("href", re.compile(rf"^/track/{reference}/"))
    expect(phone.get_by_text(WAITING)).to_be_hidden()
    screenshot(phone, "offline-sent")
    assert phone.evaluate(RUN_AXE) == []

    [report] = reports_described(app, description)
    assert report == {"reference": reference, "category": "street-light", "photos": [(2048, 1536)]}
    # What the phone sent: the photo made smaller before it left (the whole form, even).
    sent = [int(request.all_headers()["content-length"]) for request in sending]
    assert sent and max(sent) < 1_000_000, sent
    assert len(original) / max(sent) > 5

    follow.click()
    expect(phone.locator(".reference")).to_have_text(reference)
    phone.goto("/mine")
    mine = phone.locator("#mine-list .card", has_text=reference)
    expect(mine).to_contain_text("Lampadaire éteint")


def test_the_residents_pages_open_offline_with_their_reports(phone, site):
    install_the_app(phone, "/")
    # A report filed online: its tracking page puts it in "My reports" on this phone.
    phone.goto("/idea")
    phone.select_option("#category", "idea-mobility")
    phone.fill("#description", "Un abri vélos couvert près du marché.")
    phone.get_by_role("button", name="Envoyer mon idée").click()
    phone.wait_for_url(re.compile(r"/track/ISS-"))
    reference = phone.locator(".reference").text_content().strip()
    tracking = phone.url

    phone.context.set_offline(True)
    for path, heading in (
        ("/", "Dites-le à Issy-les-Moulineaux"),
        ("/report", "Signaler un problème"),
        ("/idea", "Proposer une idée"),
        ("/mine", "Mes signalements"),
    ):
        response = phone.goto(path)
        assert response.from_service_worker, path
        expect(phone.locator("h1").first).to_contain_text(heading)
    expect(phone.get_by_text("Vous êtes hors ligne")).to_be_visible()
    mine = phone.locator("#mine-list .card", has_text=reference)
    expect(mine).to_contain_text("Mobilités")
    expect(mine).not_to_contain_text(WAITING)
    expect(mine.get_by_role("link")).to_have_attribute("href", urlsplit(tracking).path)
    screenshot(phone, "offline-mine")
    phone.evaluate(AXE)
    assert phone.evaluate(RUN_AXE) == []
    assert phone.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
    phone.reload()
    expect(phone.locator("#mine-list .card", has_text=reference)).to_be_visible()
    # The form works offline too: its map code and styles came from the phone.
    phone.goto("/report")
    expect(phone.get_by_role("button", name="Utiliser ma position")).to_be_visible()
    assert phone.evaluate("() => typeof window.L") == "object"


def file_an_idea(page, description: str) -> None:
    page.select_option("#category", "idea-mobility")
    page.fill("#description", description)
    page.get_by_role("button", name="Envoyer mon idée").click()
    expect(page.get_by_text(WAITING)).to_be_visible()


def test_two_ideas_filed_offline_from_the_kept_form_are_both_sent_on_the_next_visit(phone, site):
    _base, app = site
    first, second = "Des bancs le long du quai (1).", "Une piste cyclable rue Guynemer (2)."
    install_the_app(phone, "/idea")
    phone.context.set_offline(True)
    # The form opened offline twice, from the copy the phone keeps: two ideas, not one.
    phone.goto("/idea")
    file_an_idea(phone, first)
    phone.goto("/idea")
    file_an_idea(phone, second)
    phone.goto("/mine")
    expect(phone.locator("#mine-list .card", has_text=WAITING)).to_have_count(2)
    phone.close()

    context = phone.context
    context.set_offline(False)
    later = context.new_page()
    later.goto("/mine")
    expect(later.locator("#mine-list .card", has_text=FILED)).to_have_count(2)
    expect(later.locator("#mine-list .card", has_text=WAITING)).to_have_count(0)
    [one] = reports_described(app, first)
    [other] = reports_described(app, second)
    assert one["reference"] != other["reference"]
    for report in (one, other):
        expect(later.locator("#mine-list .card", has_text=report["reference"])).to_be_visible()


def test_an_idea_whose_sending_fails_on_a_bad_connection_is_kept_then_sent(phone, site):
    """The phone thinks it is online, but the form never reaches us: the service worker keeps
    it, "My reports" shows it waiting, and the next visit sends it."""
    _base, app = site
    description = "Des fontaines à eau dans le parc (connexion coupée)."
    install_the_app(phone, "/idea")
    phone.goto("/idea")  # now under the service worker

    def cut(route):
        if route.request.method == "POST":
            route.abort("internetdisconnected")
        else:
            route.continue_()

    phone.context.route(re.compile(r".*/(idea|report/send)$"), cut)
    phone.select_option("#category", "idea-mobility")
    phone.fill("#description", description)
    phone.get_by_role("button", name="Envoyer mon idée").click()
    phone.wait_for_url("**/mine")
    waiting = phone.locator("#mine-list .card", has_text=WAITING)
    expect(waiting).to_have_count(1)
    expect(waiting).to_contain_text("Votre idée")
    assert reports_described(app, description) == []

    phone.context.unroute(re.compile(r".*/(idea|report/send)$"))
    phone.reload()
    expect(phone.locator("#mine-list .card", has_text=FILED)).to_have_count(1)
    expect(waiting).to_have_count(0)
    [report] = reports_described(app, description)
    expect(phone.locator("#mine-list .card", has_text=report["reference"])).to_be_visible()


def test_a_big_photo_is_made_smaller_before_the_form_is_sent_online(phone, site, tmp_path):
    _base, app = site
    description = "Un lampadaire penché au-dessus de la rue (en ligne)."
    posted = []
    phone.context.on(
        "request",
        lambda request: (
            request.method == "POST" and request.url.endswith("/report") and posted.append(request)
        ),
    )
    phone.goto("/report")
    phone.select_option("#category", "street-light")
    phone.get_by_role("button", name="Utiliser ma position").click()
    expect(phone.locator("#lat")).not_to_have_value("")
    original = big_camera_photo()
    picture = tmp_path / "penche.jpg"
    picture.write_bytes(original)
    phone.set_input_files("#photos", str(picture))
    phone.fill("#description", description)
    phone.get_by_role("button", name="Envoyer mon signalement").click()
    phone.wait_for_url(re.compile(r"/track/ISS-\d{4}-\d{6}/"))

    [report] = reports_described(app, description)
    assert report["photos"] == [(2048, 1536)]
    # The page's own request goes to the service worker, which sends it on: its size is known
    # on the wire, where the request says its length.
    lengths = [request.all_headers().get("content-length") for request in posted]
    sent = [int(length) for length in lengths if length]
    assert sent and max(sent) < 1_000_000 and len(original) / max(sent) > 5, sent


#: Waits until the phone keeps the report form again (Playwright's evaluate is not subject to
#: the page's CSP; wait_for_function would be).
FORM_KEPT = """async () => {
  for (let tries = 0; tries < 100; tries++) {
    if (await caches.match("/report", { ignoreVary: true })) return true;
    await new Promise(resolve => setTimeout(resolve, 100));
  }
  return false;
}"""


def test_signing_out_forgets_the_pages_kept_with_the_residents_name(phone, site):
    _base, app = site
    with app.app_context():
        resident = User(email="camille.offline@example.org", name="Camille Hors-Ligne")
        resident.set_password("un mot de passe solide")
        db.session.add(resident)
        db.session.commit()
    phone.goto("/account/signin")
    phone.fill("#email", "camille.offline@example.org")
    phone.fill("#password", "un mot de passe solide")
    phone.get_by_role("button", name="Se connecter").click()
    expect(phone.get_by_role("button", name="Se déconnecter")).to_be_visible()
    install_the_app(phone, "/report")
    phone.goto("/report")  # under the service worker: the page is kept as drawn for Camille
    phone.context.set_offline(True)
    phone.goto("/report")
    expect(phone.locator("#email")).to_have_value("camille.offline@example.org")
    phone.context.set_offline(False)

    phone.goto("/")
    phone.get_by_role("button", name="Se déconnecter").click()
    expect(phone.get_by_text("Vous êtes déconnecté")).to_be_visible()
    assert phone.evaluate(FORM_KEPT)
    phone.context.set_offline(True)
    phone.goto("/report")
    expect(phone.locator("h1")).to_have_text("Signaler un problème")
    expect(phone.locator("#email")).to_have_value("")
    assert "Camille" not in phone.content()


def test_a_kept_report_the_city_refuses_says_why_and_can_be_removed(phone, site):
    _base, app = site
    description = "Un trou quelque part (sans lieu)."
    install_the_app(phone, "/report")
    phone.context.set_offline(True)
    phone.select_option("#category", "pothole")
    phone.fill("#description", description)
    phone.get_by_role("button", name="Envoyer mon signalement").click()
    expect(phone.get_by_text(WAITING)).to_be_visible()

    phone.context.set_offline(False)
    refusal = phone.get_by_role("alert")
    expect(refusal).to_contain_text("Votre signalement n'a pas pu être envoyé")
    expect(refusal).to_contain_text("Indiquez où se trouve le problème")
    screenshot(phone, "offline-refused")
    assert reports_described(app, description) == []

    # Corrected on the spot: the form comes back as it was filled in, and is sent.
    phone.get_by_role("button", name="Corriger le formulaire").click()
    expect(phone.locator("#description")).to_have_value(description)
    expect(refusal).to_be_visible()
    phone.get_by_role("button", name="Utiliser ma position").click()
    expect(phone.locator("#lat")).not_to_have_value("")
    phone.get_by_role("button", name="Envoyer mon signalement").click()
    phone.wait_for_url(re.compile(r"/track/ISS-\d{4}-\d{6}/"))
    assert len(reports_described(app, description)) == 1


def test_a_kept_report_refused_out_of_sight_can_be_removed(phone):
    description = "Un autre trou quelque part (sans lieu)."
    install_the_app(phone, "/report")
    phone.context.set_offline(True)
    phone.select_option("#category", "pothole")
    phone.fill("#description", description)
    phone.get_by_role("button", name="Envoyer mon signalement").click()
    expect(phone.get_by_text(WAITING)).to_be_visible()
    phone.goto("/")
    phone.context.set_offline(False)

    phone.goto("/mine")
    kept = phone.locator("#mine-list .card", has_text="Non envoyé")
    expect(kept).to_contain_text("Indiquez où se trouve le problème")
    kept.get_by_role("button", name="Retirer").click()
    expect(kept).to_have_count(0)
    phone.reload()
    expect(phone.get_by_text("Rien n'a encore été envoyé depuis ce téléphone.")).to_be_visible()


def test_a_page_the_network_is_slow_to_give_opens_from_the_phone(phone):
    install_the_app(phone, "/report")
    stuck = []
    phone.context.route(re.compile(r".*/report$"), lambda route: stuck.append(route))  # unanswered
    phone.goto("/report", wait_until="commit")
    expect(phone.locator("h1")).to_have_text("Signaler un problème", timeout=10_000)
    assert stuck
    phone.context.unroute_all(behavior="ignoreErrors")


def test_a_form_opened_while_the_app_installs_is_sent_on_its_own_first_visit(phone, site):
    """A first visit: the form page comes, then the service worker fetches the pages it keeps
    for offline use (marked, so that they start no session of their own: see
    tests/web/test_pwa.py), and the form in front of the visitor is still accepted."""
    _base, app = site
    description = "Un banc de plus devant l'école, dès la première visite."
    phone.goto("/idea")
    phone.evaluate("async () => { await navigator.serviceWorker.ready; }")
    phone.select_option("#category", "idea-mobility")
    phone.fill("#description", description)
    phone.get_by_role("button", name="Envoyer mon idée").click()
    expect(phone).to_have_url(re.compile(r"/track/"))
    assert len(reports_described(app, description)) == 1
