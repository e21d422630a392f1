"""An administrator's first sign-in: the site asks for two-factor sign-in, shows its QR code,
takes a code of the app (computed here from the key the page shows, as the phone would); the
next sign-in asks for a new code."""

import pyotp
from playwright.sync_api import expect

from tellcity.accounts.models import User
from tellcity.cities.queries import default_city
from tellcity.core.db import utcnow
from tellcity.extensions import db
from tests.e2e.conftest import screenshot

DESKTOP = {"width": 1366, "height": 900}
EMAIL, PASSWORD = "admin.deux.etapes@issy.example.org", "un mot de passe solide"


def prepare(app) -> None:
    with app.app_context():
        admin = User(email=EMAIL, name="Admin 2FA", role="admin", city=default_city())
        admin.set_password(PASSWORD)
        db.session.add(admin)
        db.session.commit()


def sign_in(page) -> None:
    page.goto("/account/signin")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def test_an_administrator_sets_up_two_factor_sign_in_and_signs_in_with_a_code(browser, site):
    base, app = site
    prepare(app)
    context = browser.new_context(viewport=DESKTOP, locale="fr-FR", base_url=base)
    page = context.new_page()
    page.set_default_timeout(30_000)

    sign_in(page)
    page.wait_for_url("**/account/two-factor/setup")
    expect(
        page.get_by_role("heading", name="Configurer la connexion en deux étapes")
    ).to_be_visible()
    qr_code = page.locator(".qr-code svg")
    expect(qr_code).to_be_visible()
    assert qr_code.bounding_box()["width"] >= 150  # large enough for a phone's camera
    screenshot(page, "two-factor-setup")
    page.goto("/staff/admin/")  # nothing else until it is set up
    page.wait_for_url("**/account/two-factor/setup")

    totp = pyotp.TOTP(page.locator(".totp-secret").inner_text().strip())
    page.fill("#code", totp.now())
    page.get_by_role("button", name="Activer la connexion en deux étapes").click()
    expect(page.get_by_role("heading", name="Codes de secours")).to_be_visible()
    assert page.locator(".recovery-codes li").count() == 10

    page.get_by_role("button", name="Se déconnecter").click()
    sign_in(page)
    page.wait_for_url("**/account/signin/code")
    # The code of the next time step: the one just used is never taken twice.
    page.fill("#code", totp.generate_otp(totp.timecode(utcnow()) + 1))
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{base}/staff/")
    page.goto("/staff/admin/")
    expect(page.get_by_role("heading", name="Administration")).to_be_visible()
    context.close()
