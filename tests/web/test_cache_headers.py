"""Pages meant for one person tell every cache not to keep them (`Cache-Control: private,
no-store`): a reporter's tracking page and the links of their emails, the account pages, every
staff and administration page, any page made for a signed-in user. Public pages keep the
caching they had."""

import re
from urllib.parse import urlsplit

import sqlalchemy as sa

from tellcity.core.static_files import IMMUTABLE
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.reports.links import reporter_action_url, reporter_unsubscribe_url, tracking_url
from tests.factories import make_subscription
from tests.reports.helpers import submit

PRIVATE = "private, no-store"


def filed(demo_city):
    report = submit(demo_city, "pothole", reporter_email="zoe@example.org")
    db.session.commit()
    return report


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def test_the_reporters_and_followers_pages_are_kept_by_no_cache(client, demo_city):
    report = filed(demo_city)
    subscription = make_subscription(report, email="bob@example.org", is_confirmed=False)
    db.session.commit()
    pages = [
        tracking_url(report),
        path_of(reporter_unsubscribe_url(report)),
        path_of(reporter_action_url(report, "confirm")),
        path_of(reporter_action_url(report, "reopen")),
        f"/subscriptions/{subscription.token}/confirm",
        f"/subscriptions/{subscription.token}/unsubscribe",
        "/account/signin",
        "/account/signup",
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert response.headers.get("Cache-Control") == PRIVATE, page
    # Refused too: a wrong token's answer is nobody's to keep either.
    assert client.get(tracking_url(report)[:-2] + "xx").headers.get("Cache-Control") == PRIVATE


def test_every_staff_page_is_kept_by_no_cache(app, client, demo_city, login_as):
    report = filed(demo_city)
    department = db.session.scalars(sa.select(Department)).first()
    known = {"reference": report.reference, "department_id": department.id, "fmt": "csv"}
    login_as("admin")
    seen = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not rule.rule.startswith("/staff"):
            continue
        page = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(known.get(m[1], 1)), rule.rule)
        response = client.get(page)
        assert response.status_code < 500, page
        assert response.headers.get("Cache-Control") == PRIVATE, page
        seen.append(response.status_code)
    assert len(seen) >= 25 and seen.count(200) > 20  # the pages themselves, not refusals
    login_as(None)
    assert client.get("/staff/").headers.get("Cache-Control") == PRIVATE  # sent to sign in


def test_a_signed_in_residents_pages_are_kept_by_no_cache(client, demo_city, login_as):
    report = filed(demo_city)
    login_as("resident")
    for page in ("/account/reports", "/", "/reports", f"/reports/{report.reference}", "/report"):
        response = client.get(page)
        assert response.status_code == 200, page
        assert response.headers.get("Cache-Control") == PRIVATE, page
    # A public page with caching of its own keeps it, in the browser alone.
    assert client.get("/stats").headers["Cache-Control"].startswith("private, max-age=")


def test_public_pages_keep_their_caching(client, demo_city):
    report = filed(demo_city)
    for page in (
        "/",
        "/reports",
        "/ideas",
        f"/reports/{report.reference}",
        "/report",
        "/feeds/reports.atom",
        f"/api/v1/reports/{report.reference}",
        "/open311/v2/services.json",
        "/mine",
    ):
        response = client.get(page)
        assert response.status_code == 200, page
        assert "no-store" not in response.headers.get("Cache-Control", ""), page
        assert "private" not in response.headers.get("Cache-Control", ""), page
    assert client.get("/stats").headers["Cache-Control"].startswith("public, max-age=")
    home = client.get("/").get_data(as_text=True)
    style = re.search(r'href="(/static/[^"]+\.css\?v=[0-9a-f]+)"', home)[1]
    assert client.get(style).headers["Cache-Control"] == IMMUTABLE
