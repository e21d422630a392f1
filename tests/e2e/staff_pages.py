"""Every page a member of staff may open, by role, for the checks that go through them all
(layout on a phone, accessibility), and signing in as each role in a browser.

Made once per live server: a long queue of open tickets in the roads department (more than a
page, with long addresses and an assignee with a long name), and one ticket with a rich history
(acknowledged, started, assigned, its priority raised, notes and replies, a photo). They are of
a category no other browser test files, away from the town hall, so that they never show among
a resident's nearby reports nor in another test's filtered queue."""

from functools import cache

import sqlalchemy as sa

from tellcity.accounts.models import User
from tellcity.accounts.services import create_user
from tellcity.cities.queries import default_city
from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.reports import services as reports
from tellcity.reports.lifecycle import transition
from tellcity.reports.states import Priority
from tests.reports.helpers import department, submit

PASSWORD = "un mot de passe solide"
#: The demo city's account of each staff role.
ACCOUNTS = {
    "agent": "agent.voirie@issy.example.org",
    "manager": "chef.voirie@issy.example.org",
    "mayor": "cabinet@issy.example.org",
    "admin": "admin@issy.example.org",
}
LONG_NAME = "Marie-Christine de La Tour-d'Auvergne-Montmorency-Laval"
LONG_ADDRESS = (
    "12 bis avenue du Général-de-Gaulle-et-de-la-Libération-Nationale prolongée, "
    "92130 Issy-les-Moulineaux"
)
SOUTH = (48.8185, 2.2605)  # Issy's south-west, far from the town hall
LONG_TEXT = (
    "Le marquage du passage piéton est effacé sur toute sa largeur depuis les travaux de "
    "l'hiver ; les voitures ne s'arrêtent plus et les enfants de l'école traversent ici."
)


@cache
def staff_pages(app) -> dict[str, dict[str, str]]:
    """{role: {name: path}} of the pages each staff role of the demo city opens."""
    with app.app_context():
        city = default_city()
        for email in ACCOUNTS.values():
            account(email).set_password(PASSWORD)
        _two_factor(account(ACCOUNTS["admin"]))
        roads = department(city, "voirie")
        colleague, _password = create_user(
            "marie-christine@issy.example.org",
            role="agent",
            name=LONG_NAME,
            password=PASSWORD,
            department=roads,
        )
        manager = Actor.of(account(ACCOUNTS["manager"]))
        for n in range(60):
            ticket = submit(
                city, "road-marking", at=SOUTH, address=LONG_ADDRESS, description=LONG_TEXT
            )
            if n % 3 == 0:
                reports.assign(ticket, colleague, manager)
        rich = _rich_history(city, manager, colleague)
        db.session.commit()
        ticket_page = f"/staff/tickets/{rich.reference}"
        common = {
            "queue": "/staff/",
            "ticket": ticket_page,
            "map": "/staff/map",
            "two-factor sign-in": "/account/two-factor",
        }
        stats = {
            "statistics": "/staff/stats/",
            "monthly statistics": "/staff/stats/monthly",
            "a department's statistics": f"/staff/stats/departments/{roads.id}",
        }
        return {
            "agent": {**common, "two-factor setup (QR code)": "/account/two-factor/setup"},
            "manager": {
                **common,
                "administration": "/staff/admin/",
                "categories": "/staff/admin/categories",
                "reply templates": "/staff/admin/reply-templates",
            },
            "mayor": {**common, **stats},
            "admin": {**common, **stats, **_admin_pages(app, city, roads, colleague)},
        }


def account(email: str) -> User:
    return db.session.scalar(sa.select(User).where(User.email == email))


def _rich_history(city, manager: Actor, colleague: User):
    """A ticket whose page shows many kinds of events, long texts among them."""
    agent = Actor.of(account(ACCOUNTS["agent"]))
    ticket = submit(city, "road-marking", at=SOUTH, address=LONG_ADDRESS, description=LONG_TEXT)
    transition(ticket, "acknowledged", agent, text="Merci, nous regardons.")
    reports.assign(ticket, colleague, manager)
    reports.set_priority(ticket, Priority.HIGH, manager)
    for n in range(3):
        reports.add_note(ticket, f"Note {n} : {LONG_TEXT} https://exemple.fr/{'x' * 80}", agent)
    reports.reply(ticket, "Une équipe passera repeindre le passage cette semaine.", agent)
    transition(ticket, "in_progress", agent, text="L'équipe est sur place.")
    return ticket


def _admin_pages(app, city, roads, colleague) -> dict[str, str]:
    """Every administration page without a form's answer: each list and each "new" form from
    the app's URL map, and the edit form of one row of each kind."""
    from tellcity.categories.models import Category
    from tellcity.cities.models import Zone

    pages = {
        rule.rule: rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/staff/admin") and "GET" in rule.methods and not rule.arguments
    }
    category = db.session.scalar(sa.select(Category).where(Category.city_id == city.id))
    zone = db.session.scalar(sa.select(Zone).where(Zone.city_id == city.id))
    pages.update(
        {
            "a department": f"/staff/admin/departments/{roads.id}",
            "a category": f"/staff/admin/categories/{category.id}",
            "a zone": f"/staff/admin/zones/{zone.id}",
            "a user": f"/staff/admin/users/{colleague.id}",
            # The routing test answers a question: ask one.
            "/staff/admin/rules/test": (
                f"/staff/admin/rules/test?category_id={category.id}&lat={SOUTH[0]}&lon={SOUTH[1]}"
            ),
        }
    )
    return pages


#: The cookies of a session signed in, by role: a browser signs in through the form once per
#: role and live server, then the others take its cookies (as a browser restored would).
_SESSIONS: dict[tuple[int, str], list] = {}


def sign_in(page, app, role: str) -> None:
    """Sign in as the demo account of `role` (staff_pages() set its password): through the
    form, giving a code of its two-factor app when it has one, the first time; the browser is
    then on the dashboard."""
    if (id(app), role) in _SESSIONS:
        page.context.add_cookies(_SESSIONS[id(app), role])
        page.goto("/staff/")
        return
    page.goto("/account/signin")
    page.fill("#email", ACCOUNTS[role])
    page.fill("#password", PASSWORD)
    page.locator("form:has(#password) button[type=submit]").click()
    page.wait_for_load_state()
    if page.locator("input[name=code]").count():
        page.fill("input[name=code]", _current_code(app, ACCOUNTS[role]))
        page.locator("form:has(input[name=code]) button[type=submit]").click()
    page.wait_for_url("**/staff/**")
    _SESSIONS[id(app), role] = page.context.cookies()


def _two_factor(user: User) -> None:
    """Administrators sign in with a second factor (where the app has it): give this one an
    authenticator app's secret, as if they had set it up."""
    if hasattr(user, "totp_enabled_at"):
        import pyotp

        from tellcity.core.db import utcnow

        user.totp_secret, user.totp_enabled_at = pyotp.random_base32(), utcnow()


def _current_code(app, email: str) -> str:
    """The code the user's app shows now. The app takes no code twice: the last one taken is
    forgotten first, for a test that signs in several times within 30 seconds."""
    import pyotp

    with app.app_context():
        user = account(email)
        user.totp_last_step = None
        db.session.commit()
        return pyotp.TOTP(user.totp_secret).now()
