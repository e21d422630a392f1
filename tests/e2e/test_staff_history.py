"""A French manager reads a ticket's whole history in French: routing, moves, transfers,
assignment, priority, replies, notes, a merge, an escalation and a reopening, each said in
their language, with names rather than codes."""

import sqlalchemy as sa

from tellcity.accounts.models import User
from tellcity.cities.queries import default_city
from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.reports import services
from tellcity.reports.events import record
from tellcity.reports.lifecycle import transition
from tellcity.reports.states import EventType
from tellcity.sla.services import ESCALATOR
from tellcity.staff import services as staff_services
from tests.e2e.conftest import screenshot
from tests.reports.helpers import department, submit

DESKTOP = {"width": 1366, "height": 900}
PASSWORD = "un mot de passe solide"
#: The English sentences and codes histories used to show, and the words of the new ones.
ENGLISH = [
    "Routed",
    "Received",
    "Overdue",
    "escalated",
    "default department",
    "status_change",
    "priority_change",
    "public_reply",
    "internal_note",
    "created",
    "assignment",
    "→",
    "Status changed",
    "Priority changed",
    "Assigned to",
    "Transferred",
    "Merged",
    "Reopened",
    "SLA escalation",
    "managers",
    "reporter",
]


def lived_ticket(app) -> str:
    """A pothole with a rich history; returns its reference."""
    with app.app_context():
        city = default_city()
        users = {
            user.email.split("@")[0]: user
            for user in db.session.scalars(sa.select(User).where(User.city_id == city.id))
        }
        users["chef.voirie"].set_password(PASSWORD)
        agent, manager = Actor.of(users["agent.voirie"]), Actor.of(users["chef.voirie"])
        report, other = submit(city, "pothole"), submit(city, "pothole")
        transition(report, "acknowledged", agent, text="Vu par l'équipe voirie")
        services.set_priority(report, 1, agent)
        services.assign(report, users["agent.voirie"], agent)
        services.reply(report, "Nous passons cette semaine.", agent)
        services.add_note(report, "Prévoir la plaque de signalisation.", agent)
        staff_services.merge(report, [other], agent)
        services.transfer(report, department(city, "proprete"), manager, "Dépôt sauvage aussi")
        chef_proprete = Actor.of(users["chef.proprete"])
        services.transfer(report, department(city, "voirie"), chef_proprete, "C'est un trou")
        record(
            report,
            ESCALATOR,
            EventType.ESCALATION,
            data={
                "message": "escalation",
                "due_at": report.due_at.isoformat(),
                "contacts": ["chef.voirie@issy.example.org"],
                "via": "managers",
            },
        )
        transition(report, "resolved", agent, text="Trou rebouché.")
        transition(report, "acknowledged", manager, text="Le trou est revenu.")
        db.session.commit()
        return report.reference


def test_a_french_manager_reads_the_history_in_french(browser, site):
    base, app = site
    reference = lived_ticket(app)
    context = browser.new_context(viewport=DESKTOP, locale="fr-FR", base_url=base)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto("/account/signin")
    page.fill("#email", "chef.voirie@issy.example.org")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/staff/**")
    page.goto(f"/staff/tickets/{reference}")
    history = page.locator("ol.timeline").inner_text()
    screenshot(page, "staff-ticket-history-fr")
    for sentence in (
        "Reçu et orienté vers Voirie et travaux",
        "État changé : nouveau devient pris en compte",
        "Priorité changée",
        "Attribué à",
        "Transféré de Voirie et travaux à Propreté urbaine",
        "Fusionné avec",
        "En retard depuis le",
        "Rouvert : pris en compte",
        "Prévoir la plaque de signalisation.",  # what the agent typed, as typed
    ):
        assert sentence in history, sentence
    found = [word for word in ENGLISH if word in history]
    assert found == [], history
    context.close()
