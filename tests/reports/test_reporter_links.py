"""The reporter follows the links of the resolution email: confirm the fix, or reopen."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from itsdangerous import URLSafeTimedSerializer

from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.reports.lifecycle import transition
from tellcity.reports.links import reporter_action_url
from tests.reports.helpers import submit


@pytest.fixture
def resolved(demo_city, staff):
    report = submit(demo_city, "pothole")
    transition(report, "resolved", Actor.of(staff["agent.voirie"]), text="Trou rebouché.")
    db.session.commit()
    return report


def path(url: str) -> str:
    """The link as the test client requests it: path and query."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_confirming_from_the_email_link(client, resolved):
    url = path(reporter_action_url(resolved, "confirm"))
    page = client.get(url).get_data(as_text=True)
    assert "Le problème est-il bien réglé ?" in page and resolved.reference in page
    token = url.split("token=")[1]
    response = client.post(url, data={"csrf_token": csrf(page), "token": token})
    assert response.status_code == 200
    assert "Merci de votre confirmation" in response.get_data(as_text=True)
    db.session.refresh(resolved)
    assert resolved.confirmed_at is not None


def test_reopening_from_the_email_link_needs_a_comment(client, resolved):
    url = path(reporter_action_url(resolved, "reopen"))
    page = client.get(url).get_data(as_text=True)
    token = url.split("token=")[1]
    empty = client.post(url, data={"csrf_token": csrf(page), "token": token, "comment": " "})
    assert empty.status_code == 422
    assert "Dites-nous ce qui ne va pas" in empty.get_data(as_text=True)
    response = client.post(
        url, data={"csrf_token": csrf(page), "token": token, "comment": "Toujours là."}
    )
    assert "Signalement rouvert" in response.get_data(as_text=True)
    db.session.refresh(resolved)
    assert resolved.status == "acknowledged"
    assert resolved.events[-1].text == "Toujours là."


def test_a_forged_or_swapped_link_is_refused(client, demo_city, resolved, app):
    other = submit(demo_city, "pothole")
    db.session.commit()
    foreign = path(reporter_action_url(other, "confirm")).split("token=")[1]
    assert client.get(f"/reports/{resolved.reference}/confirm?token={foreign}").status_code == 403
    reopen = path(reporter_action_url(resolved, "reopen")).split("token=")[1]
    assert client.get(f"/reports/{resolved.reference}/confirm?token={reopen}").status_code == 403
    forged = URLSafeTimedSerializer("not-our-key", salt="reporter-action").dumps(
        {"report": resolved.id, "action": "confirm"}
    )
    assert client.get(f"/reports/{resolved.reference}/confirm?token={forged}").status_code == 403
    assert client.get("/reports/ISS-1999-000001/confirm?token=x").status_code == 404


def test_a_confirmation_after_30_days_is_refused_on_the_page(client, resolved):
    url = path(reporter_action_url(resolved, "confirm"))
    page = client.get(url).get_data(as_text=True)
    resolved.resolved_at -= timedelta(days=31)
    db.session.commit()
    response = client.post(url, data={"csrf_token": csrf(page), "token": url.split("token=")[1]})
    assert response.status_code == 403
    assert "dans les 30 jours" in response.get_data(as_text=True)
