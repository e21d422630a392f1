"""Defaults that match the work: the queue opens on the open tickets under a heading, closed ones
one click away and links that ask for more still showing it; a new account's pages follow the
browser's language until its owner chooses one, which then follows them; the public site
links to the dashboard for signed-in staff only."""

import re

from playwright.sync_api import expect

from tellcity.accounts.services import create_user
from tellcity.cities.queries import default_city
from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.reports.lifecycle import transition
from tests.e2e.staff_pages import ACCOUNTS, PASSWORD, SOUTH, account, sign_in, staff_pages
from tests.reports.helpers import department, submit

DESK = {"width": 1366, "height": 900}


def desk(browser, site, locale="fr-FR"):
    base, _app = site
    context = browser.new_context(viewport=DESK, locale=locale, base_url=base)
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page


def closed_ticket(app) -> str:
    with app.app_context():
        city = default_city()
        report = submit(city, "road-marking", at=SOUTH, description="Tag déjà effacé")
        agent = Actor.of(account(ACCOUNTS["agent"]))
        transition(report, "rejected", agent, reason="test")
        db.session.commit()
        return report.reference


def test_the_queue_opens_on_the_open_tickets(browser, site):
    _base, app = site
    staff_pages(app)
    reference = closed_ticket(app)
    page = desk(browser, site)
    sign_in(page, app, "agent")
    page.goto("/staff/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("File des tickets")
    expect(page.locator("#f-status")).to_have_value("open")
    expect(page.locator("table.queue")).not_to_contain_text(reference)
    page.get_by_role("navigation", name="Tickets ouverts ou clos").get_by_role(
        "link", name="Clos"
    ).click()
    expect(page.locator("table.queue")).to_contain_text(reference)
    shown = set(page.locator("table.queue .badge").all_text_contents())
    assert "rejeté" in shown and not shown & {"nouveau", "pris en compte", "en cours"}
    page.select_option("#f-status", "all")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.locator("table.queue")).to_contain_text("en cours")
    # A bookmark, a search for a reference: what they ask for, closed or not.
    page.goto(f"/staff/?q={reference}")
    expect(page.locator("table.queue")).to_contain_text(reference)
    page.context.close()


def new_account(app, email: str) -> None:
    """An agent of the roads department, made as an administrator makes one: no language."""
    with app.app_context():
        roads = department(default_city(), "voirie")
        create_user(email, role="agent", password=PASSWORD, department=roads)
        db.session.commit()


def sign_in_as(page, email: str) -> None:
    page.goto("/account/signin")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form:has(#password) button[type=submit]").click()
    page.wait_for_url("**/staff/**")


def language(page) -> str:
    return page.locator("html").get_attribute("lang")


def test_a_new_account_reads_its_browsers_language_until_it_chooses(browser, site):
    _base, app = site
    new_account(app, "new.agent@issy.example.org")
    english = desk(browser, site, locale="en-GB")
    sign_in_as(english, "new.agent@issy.example.org")
    assert language(english) == "en"
    expect(english.get_by_role("heading", level=1)).to_contain_text("Ticket queue")
    french = desk(browser, site, locale="fr-FR")
    sign_in_as(french, "new.agent@issy.example.org")
    assert language(french) == "fr"
    french.get_by_role("link", name="EN", exact=True).click()  # the choice
    french.wait_for_url("**/staff/**")
    assert language(french) == "en"
    french.context.close()
    elsewhere = desk(browser, site, locale="fr-FR")  # another browser: no cookie
    sign_in_as(elsewhere, "new.agent@issy.example.org")
    assert language(elsewhere) == "en"
    elsewhere.goto("/")
    assert language(elsewhere) == "en"
    english.context.close()
    elsewhere.context.close()


def test_the_public_site_links_to_the_dashboard_for_signed_in_staff_only(browser, site):
    _base, app = site
    staff_pages(app)
    with app.app_context():
        create_user("habitante@example.org", password=PASSWORD, city=default_city())
        db.session.commit()
    dashboard = re.compile("Tableau de bord")
    page = desk(browser, site)
    # Not the home page first: its service worker's first downloads, made without the session
    # cookie, could replace it (and its form token) while the form below is being filled in.
    page.goto("/account/signin")
    expect(page.locator("header").get_by_role("link", name=dashboard)).to_have_count(0)
    page.fill("#email", "habitante@example.org")
    page.fill("#password", PASSWORD)
    page.locator("form:has(#password) button[type=submit]").click()
    page.wait_for_url("**/account/reports")
    page.goto("/")
    expect(page.locator("header").get_by_role("link", name="Mes signalements")).to_be_visible()
    expect(page.locator("header").get_by_role("link", name=dashboard)).to_have_count(0)
    page.context.close()
    for role in ACCOUNTS:
        page = desk(browser, site)
        sign_in(page, app, role)
        page.goto("/reports")
        page.locator("header").get_by_role("link", name=dashboard).click()
        page.wait_for_url("**/staff/")
        page.context.close()
