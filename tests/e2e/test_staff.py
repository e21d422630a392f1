"""An agent at their desk: sign in, filter the queue, acknowledge and resolve a ticket with a
reply template; the resident's tracking page then shows the answer."""

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from tellcity.accounts.models import User
from tellcity.cities.queries import default_city
from tellcity.extensions import db
from tellcity.reports.links import tracking_url
from tellcity.staff.models import ReplyTemplate
from tests.e2e.conftest import screenshot
from tests.reports.helpers import submit

DESKTOP = {"width": 1366, "height": 900}


def prepare(app) -> tuple[str, str]:
    with app.app_context():
        city = default_city()
        agent = db.session.scalar(
            sa.select(User).where(User.email == "agent.voirie@issy.example.org")
        )
        agent.set_password("un mot de passe solide")
        db.session.add(
            ReplyTemplate(
                city_id=city.id,
                title="Réparation faite",
                status="resolved",
                body="Bonjour, le problème {reference} a été réparé. Merci de votre signalement !",
            )
        )
        report = submit(
            city, "pavement", at=(48.8262, 2.2705), description="Dalle descellée devant l'école"
        )
        for n in range(3):
            submit(city, "pothole", at=(48.8200 + n * 0.002, 2.2650), description=f"Trou {n}")
        db.session.commit()
        with app.test_request_context():
            return report.reference, tracking_url(report)


def test_an_agent_resolves_a_ticket_with_a_template(browser, site):
    base, app = site
    reference, tracking = prepare(app)
    context = browser.new_context(viewport=DESKTOP, locale="fr-FR", base_url=base)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto("/staff/")
    page.wait_for_url("**/account/signin**")
    page.fill("#email", "agent.voirie@issy.example.org")
    page.fill("#password", "un mot de passe solide")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/staff/**")
    page.select_option("#f-category", "pavement")
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_url("**category=pavement**")
    assert page.locator("table.queue tbody tr").count() == 1
    page.goto("/staff/")
    screenshot(page, "staff-queue")
    page.get_by_role("link", name=reference).click()
    page.wait_for_url(f"**/staff/tickets/{reference}")
    page.select_option("#to", "acknowledged")
    page.locator("#status-form").get_by_role("button", name="Changer l'état").click()
    page.wait_for_load_state()
    assert "pris en compte" in page.text_content(".badge")
    page.select_option("#to", "resolved")
    page.select_option("#status-template", label="Réparation faite")
    expect(page.locator("#status-text")).to_have_value(re.compile("réparé"))
    screenshot(page, "staff-ticket")
    page.locator("#status-form").get_by_role("button", name="Changer l'état").click()
    page.wait_for_load_state()
    assert "résolu" in page.text_content(".badge")
    page.goto("/staff/map")
    page.wait_for_selector(".leaflet-marker-icon, .marker-cluster")
    screenshot(page, "staff-map")
    context.close()

    resident = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="fr-FR", base_url=base
    ).new_page()
    resident.goto(tracking)
    assert f"le problème {reference} a été réparé" in resident.content()
    assert "Oui, c'est réparé" in resident.content()
    resident.context.close()
