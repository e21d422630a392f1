"""Every time a person reads is in the time zone of the city it is about: two cities side by
side, one in New York and one in Paris, each with a report made at midnight there. Each page,
export and email says 00:00 in its own city, never 06:00 (New York read in Paris) or 18:00
(Paris read in New York)."""

import csv
import io
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pyotp
import pytest

from tellcity.accounts.models import ApiKey, Role
from tellcity.audit.models import AuditEntry
from tellcity.core.db import utcnow
from tellcity.extensions import db
from tellcity.notify import services as notify
from tellcity.notify.worker import deliver_due
from tellcity.reports.links import tracking_url
from tellcity.staff.models import ReplyTemplate
from tests.factories import make_category, make_city, make_department, make_report, make_user
from tests.web.helpers import text

#: A winter day: New York is 5 hours behind UTC, Paris 1 hour ahead.
DAY = date(2026, 1, 15)
ZONES = {"gotham": "America/New_York", "lutece": "Europe/Paris"}
TAG = re.compile(r"<[^>]*>")
#: The wrong hours the other city's zone (or the old fixed Paris) gave midnight.
WRONG = ("06:00", "18:00", "05:00", "23:00")


def midnight(day: date, zone: str) -> datetime:
    """Local midnight of `day` in `zone`, as the database keeps it (UTC)."""
    return datetime.combine(day, time(), ZoneInfo(zone)).astimezone(UTC)


def administrator(city_id: int | None):
    """An administrator of the city (None: of every city), with the second factor that
    administrators must have set up (tellcity.accounts.two_factor)."""
    return make_user(
        role=Role.ADMIN,
        city_id=city_id,
        totp_secret=pyotp.random_base32(),
        totp_enabled_at=utcnow(),
    )


@pytest.fixture
def cities(app):
    """Each city by slug, with its report made at midnight there (due five days later at
    midnight), its mayor, who last signed in at midnight too, and its administrator."""
    found = {}
    for slug, zone in ZONES.items():
        city = make_city(slug=slug, name=slug.title(), timezone=zone, reference_prefix=slug[:3])
        department = make_department(city)
        report = make_report(
            make_category(city),
            department=department,
            created_at=midnight(DAY, zone),
            due_at=midnight(DAY + timedelta(days=5), zone),
            reporter_email=f"reporter@{slug}.example.org",
            locale="en",
        )
        mayor = make_user(role=Role.MAYOR, city_id=city.id, last_login_at=midnight(DAY, zone))
        admin = administrator(city.id)
        db.session.add_all(
            [
                ApiKey(
                    name=f"{slug} key",
                    prefix=f"{slug}01",
                    key_hash="unused",
                    city_id=city.id,
                    created_at=midnight(DAY, zone),
                ),
                AuditEntry(
                    city_id=city.id,
                    actor_label="test",
                    action="update",
                    entity="city",
                    entity_id=city.id,
                    created_at=midnight(DAY, zone),
                    before={"revoked_at": None},
                    after={"revoked_at": midnight(DAY, zone).isoformat()},
                ),
            ]
        )
        found[slug] = {"city": city, "report": report, "mayor": mayor, "admin": admin}
    db.session.commit()
    return found


@pytest.fixture
def reader(client):
    """Sign a user in (None: nobody), reading English."""
    client.set_cookie("lang", "en")

    def sign_in(user):
        with client.session_transaction() as session:
            session.clear()
            if user is not None:
                session["_user_id"] = str(user.id)
                session["_fresh"] = True

    return sign_in


def page(client, url: str) -> str:
    """What the page at `url` shows: its text, not its tags (whose machine-readable times,
    such as a <time> element's or the page's data for the phone, are exact moments in UTC)."""
    response = client.get(url)
    assert response.status_code == 200, url
    return TAG.sub(" ", text(response))


def assert_midnight(found: str, shown: str) -> None:
    assert shown in found
    assert not any(wrong in found for wrong in WRONG)


@pytest.mark.parametrize("slug", ZONES)
def test_staff_pages_show_the_citys_midnight(client, reader, cities, slug):
    reader(cities[slug]["mayor"])
    report = cities[slug]["report"]
    ticket = page(client, f"/staff/tickets/{report.reference}")
    assert "15 Jan 2026, 00:00" in ticket and "20 Jan 2026, 00:00" in ticket
    assert not any(wrong in ticket for wrong in WRONG)
    assert_midnight(page(client, "/staff/?status=all"), "15 Jan 2026, 00:00")


@pytest.mark.parametrize("slug", ZONES)
def test_an_administrator_of_every_city_reads_each_ticket_in_its_city(client, reader, cities, slug):
    reader(administrator(None))
    db.session.commit()
    ticket = page(client, f"/staff/tickets/{cities[slug]['report'].reference}")
    assert_midnight(ticket, "15 Jan 2026, 00:00")


@pytest.mark.parametrize("slug", ZONES)
def test_a_reply_template_gives_the_citys_due_date(client, reader, cities, slug):
    """{due_date} is the day of the deadline there, late in New York (the next day in UTC and
    Paris), early in Paris (the day before in UTC and New York)."""
    report, zone = cities[slug]["report"], ZoneInfo(ZONES[slug])
    late_or_early = {"gotham": time(23, 30), "lutece": time(0, 30)}[slug]
    report.due_at = datetime.combine(DAY + timedelta(days=5), late_or_early, zone)
    template = ReplyTemplate(
        city_id=cities[slug]["city"].id, title="When", body="Expected on {due_date}."
    )
    db.session.add(template)
    db.session.commit()
    reader(cities[slug]["admin"])
    filled = client.get(f"/staff/tickets/{report.reference}/templates/{template.id}").json
    assert filled == {"text": "Expected on 20 January 2026."}


@pytest.mark.parametrize("slug", ZONES)
def test_public_pages_show_the_citys_midnight(app, client, reader, cities, slug):
    """The public site of each city, and the reporter's page (its link reaches a report of any
    city, here the other one than the site's)."""
    app.config["DEFAULT_CITY"] = slug
    report = cities[slug]["report"]
    reader(None)
    shown = page(client, f"/reports/{report.reference}")
    assert_midnight(shown, "15 Jan 2026, 00:00")
    assert "15 Jan 2026" in page(client, "/reports")
    app.config["DEFAULT_CITY"] = next(other for other in ZONES if other != slug)
    with app.test_request_context():
        link = tracking_url(report)
    tracked = page(client, link)
    assert "15 Jan 2026" in tracked and "20 January 2026" in tracked
    assert not any(wrong in tracked for wrong in WRONG)


@pytest.mark.parametrize("slug", ZONES)
def test_statistics_say_as_of_the_citys_midnight(client, reader, cities, slug):
    """A day's figures stop at the next midnight there: the backlog "as of" line says it."""
    reader(cities[slug]["mayor"])
    shown = page(client, "/staff/stats/?from=2026-01-15&to=2026-01-15")
    assert "Backlog as of 16 Jan 2026, 00:00." in shown
    assert "From 15 January 2026 to 15 January 2026" in shown


@pytest.mark.parametrize("slug", ZONES)
def test_csv_exports_write_local_times_with_their_offset(app, client, reader, cities, slug):
    offset = {"gotham": "-05:00", "lutece": "+01:00"}[slug]
    reader(cities[slug]["mayor"])
    [row] = list(csv.DictReader(io.StringIO(page(client, "/staff/export.csv?status=all"))))
    assert row["created_at"] == f"2026-01-15T00:00:00{offset}"
    assert row["due_at"] == f"2026-01-20T00:00:00{offset}"
    reader(None)
    app.config["DEFAULT_CITY"] = slug
    [row] = list(csv.DictReader(io.StringIO(page(client, "/open-data/reports.csv"))))
    assert row["created_at"] == f"2026-01-15T00:00:00{offset}"


def test_each_acknowledgement_email_says_its_citys_midnight(cities, smtp):
    for found in cities.values():
        notify.notify_acknowledgement(found["report"])
    db.session.commit()
    while deliver_due().claimed:
        pass
    for slug in ZONES:
        [email] = smtp.to(f"reporter@{slug}.example.org")
        body = email.get_body(("plain",)).get_content()
        assert "2026-01-15 00:00" in body and "2026-01-20 00:00" in body
        assert not any(wrong in body for wrong in WRONG)


@pytest.mark.parametrize("slug", ZONES)
def test_admin_pages_show_the_citys_midnight(client, reader, cities, slug):
    """The users' last sign-in (the mayor's), the API keys' creation and the audit log (its
    entry's time, and a time it changed)."""
    reader(cities[slug]["admin"])
    for url in ("users", "api-keys", "audit"):
        assert_midnight(page(client, f"/staff/admin/{url}"), "15 Jan 2026, 00:00")
    assert page(client, "/staff/admin/audit").count("15 Jan 2026, 00:00") == 2
