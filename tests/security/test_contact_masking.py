"""A resident who types their email and phone into the address and the description of a report
finds them in no public output, only on the staff's ticket page; the address itself is shown."""

import re
import unicodedata

import sqlalchemy as sa

from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.notify.models import OutboxMessage
from tellcity.reports import services
from tests.notify.helpers import composed
from tests.reports.helpers import TOWN_HALL, submit
from tests.test_text import fullwidth

ADDRESS = (
    "62 rue du Général Leclerc, 92130 Issy-les-Moulineaux, marie.curie@example.org 06 98 76 54 31"
)
DESCRIPTION = f"Trou profond. Rappelez-moi : jean (at) gmail.com ou {fullwidth('07.11.22.33.44')}"
EMAILS = ("marie.curie@example.org", "marie.curie", "jean (at) gmail.com")
#: The phones' digits, whatever separators an output puts between them (searched in the
#: output's NFKC form: full-width digits as ASCII ones).
PHONES = (
    re.compile(r"98\D{0,3}76\D{0,3}54\D{0,3}31"),
    re.compile(r"11\D{0,3}22\D{0,3}33\D{0,3}44"),
)


def public_urls(reference: str) -> list[str]:
    lat, lon = TOWN_HALL
    urls = [
        "/",
        "/reports",
        f"/reports/{reference}",
        "/reports/markers.json?bbox=2.2,48.8,2.3,48.9",
        f"/api/v1/reports/{reference}",
        f"/api/v1/reports/nearby?lat={lat}&lon={lon}",
        "/feeds/reports.atom",
        "/open-data/reports.csv",
        "/open-data/reports.geojson",
    ]
    for fmt in ("json", "xml"):
        urls += [
            f"/open311/v2/requests.{fmt}",
            f"/open311/v2/requests.{fmt}?extensions=true",
            f"/open311/v2/requests/{reference}.{fmt}",
            f"/open311/v2/requests/{reference}.{fmt}?extensions=true",
        ]
    return urls


def test_contacts_in_the_address_and_description_are_masked_everywhere_public(
    client, login_as, demo_city, staff
):
    report = submit(demo_city, "pothole", address=ADDRESS, description=DESCRIPTION)
    db.session.commit()
    shown_address = 0
    for url in public_urls(report.reference):
        answer = client.get(url)
        assert answer.status_code == 200, url
        body = answer.get_data(as_text=True)
        for email in EMAILS:
            assert email not in body, (url, email)
        for phone in PHONES:
            assert not phone.search(unicodedata.normalize("NFKC", body)), (url, phone.pattern)
        shown_address += "rue du Général Leclerc" in body
    # Where the address is shown, its house number and postcode are left.
    page = client.get(f"/reports/{report.reference}").get_data(as_text=True)
    assert "62 rue du Général Leclerc, 92130 Issy-les-Moulineaux" in page
    assert "[numéro masqué]" in page and "[adresse masquée]" in page
    assert shown_address >= 10


def test_the_staff_ticket_page_shows_what_the_resident_typed(client, login_as, demo_city, staff):
    report = submit(demo_city, "pothole", address=ADDRESS, description=DESCRIPTION)
    db.session.commit()
    login_as("agent.voirie")
    page = client.get(f"/staff/tickets/{report.reference}").get_data(as_text=True)
    assert "marie.curie@example.org 06 98 76 54 31" in page
    assert "jean (at) gmail.com" in page


def test_followers_emails_carry_no_contact_typed_into_the_report(demo_city, staff):
    report = submit(demo_city, "pothole", address=ADDRESS, description=DESCRIPTION)
    services.ask_to_follow(report, "voisin@example.org", locale="fr")
    services.follow(report, "voisine@example.org", confirmed=True)
    services.reply(report, "Merci, ou appelez le 01 45 67 89 10.", Actor.of(staff["agent.voirie"]))
    db.session.commit()
    to_followers = composed(
        db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.recipient.like("voisin%"))
        ).all()
    )
    assert len(to_followers) == 2
    for message in to_followers:
        text = unicodedata.normalize("NFKC", message.body)
        assert "rue du Général Leclerc" in text, message.subject
        for email in EMAILS:
            assert email not in text, (message.subject, email)
        for phone in (*PHONES, re.compile(r"45\D{0,3}67\D{0,3}89")):
            assert not phone.search(text), (message.subject, phone.pattern)
