"""The reporter follows the links of the resolution email: confirm the fix, or reopen."""

import html
import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.reports.lifecycle import transition
from tellcity.reports.links import reporter_action_url, tracking_url
from tellcity.reports.states import Status
from tests.reports.helpers import submit

ENGLISH = {"Accept-Language": "en"}
#: What the tracking page asks while the reporter may still answer.
IS_IT_FIXED = "Le service indique que le problème est réglé. Est-ce le cas ?"


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


def visible(response) -> str:
    """The words a visitor reads on the page: no markup, no script, no style."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", response.get_data(as_text=True), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def assert_no_status_code(words: str) -> None:
    """Statuses are named by their labels (pris en compte, en cours...), never their codes."""
    codes = [status.value for status in Status if re.search(rf"\b{status.value}\b", words)]
    assert codes == [], words


def answer(client, report, action: str, **data):
    """Send the form behind the email's `action` link, as the reporter's browser does (the
    session's CSRF token taken from their tracking page)."""
    url = path(reporter_action_url(report, action))
    page = client.get(tracking_url(report)).get_data(as_text=True)
    token = url.split("token=")[1]
    return client.post(url, data={"csrf_token": csrf(page), "token": token, **data})


def test_a_confirmation_after_30_days_is_refused_on_the_page(client, resolved):
    url = path(reporter_action_url(resolved, "confirm"))
    page = client.get(url).get_data(as_text=True)
    resolved.resolved_at -= timedelta(days=31)
    db.session.commit()
    response = client.post(url, data={"csrf_token": csrf(page), "token": url.split("token=")[1]})
    assert response.status_code == 409
    words = visible(response)
    assert "Les 30 jours pour répondre sont passés" in words
    assert_no_status_code(words)
    db.session.refresh(resolved)
    assert resolved.confirmed_at is None


def test_the_tracking_page_stops_asking_once_the_fix_is_confirmed(client, resolved):
    assert IS_IT_FIXED in visible(client.get(tracking_url(resolved)))
    assert answer(client, resolved, "confirm").status_code == 200
    words = visible(client.get(tracking_url(resolved)))
    assert IS_IT_FIXED not in words and "Oui, c'est réparé" not in words
    assert "Vous avez confirmé la réparation le " in words


def test_the_tracking_page_stops_asking_once_the_report_is_reopened(client, resolved):
    response = answer(client, resolved, "reopen", comment="Revenu.")
    assert response.status_code == 200
    words = visible(client.get(tracking_url(resolved)))
    assert IS_IT_FIXED not in words
    assert "Rouvert : pris en compte" in words and "Revenu." not in words


def test_both_links_say_the_fix_was_already_confirmed(client, resolved):
    confirm = path(reporter_action_url(resolved, "confirm"))
    answer(client, resolved, "confirm")
    for url in (confirm, path(reporter_action_url(resolved, "reopen"))):
        again = client.get(url)
        assert again.status_code == 200
        words = visible(again)
        assert "Vous avez déjà confirmé cette réparation le " in words
        assert "Oui, c'est réparé" not in words and 'name="comment"' not in again.text
        assert_no_status_code(words)
    english = visible(client.get(confirm, headers=ENGLISH))
    assert "You already confirmed this fix on " in english
    reused = answer(client, resolved, "confirm")
    assert reused.status_code == 409 and "déjà confirmé" in visible(reused)


def test_a_link_used_after_the_reporter_reopened_says_so(client, resolved):
    reopen = path(reporter_action_url(resolved, "reopen"))
    answer(client, resolved, "reopen", comment="Toujours là.")
    for url in (reopen, path(reporter_action_url(resolved, "confirm"))):
        words = visible(client.get(url))
        assert "Vous avez rouvert ce signalement le " in words
        assert "Son état : pris en compte." in words
        assert_no_status_code(words)
    english = visible(client.get(reopen, headers=ENGLISH))
    assert "You reopened this report on " in english and "It is now: acknowledged." in english
    reused = answer(client, resolved, "reopen", comment="Encore.")
    assert reused.status_code == 409
    db.session.refresh(resolved)
    assert [event.text for event in resolved.events if event.type == "reopen"] == [
        "",
        "Toujours là.",
    ]


def test_a_link_used_after_the_staff_moved_the_report_on_names_its_status(client, resolved, staff):
    manager = Actor.of(staff["chef.voirie"])
    transition(resolved, "acknowledged", manager, text="Pas fini.")
    transition(resolved, "in_progress", manager)
    db.session.commit()
    words = visible(client.get(path(reporter_action_url(resolved, "confirm"))))
    assert "Ce signalement a été rouvert le " in words and "Son état : en cours." in words
    assert_no_status_code(words)
    transition(resolved, "not_actionable", manager, reason="private_property")
    db.session.commit()
    words = visible(client.get(path(reporter_action_url(resolved, "reopen"))))
    assert "Ce signalement a changé depuis l'envoi de ce lien." in words
    assert_no_status_code(words)


class PastSigner(TimestampSigner):
    """Signs as if 31 days ago: a link from an old email."""

    def get_timestamp(self) -> int:
        return int(time.time()) - 31 * 24 * 3600


def test_a_link_older_than_30_days_says_the_time_to_answer_has_passed(client, app, resolved):
    old = URLSafeTimedSerializer(app.secret_key, salt="reporter-action", signer=PastSigner)
    token = old.dumps({"report": resolved.id, "action": "confirm"})
    response = client.get(f"/reports/{resolved.reference}/confirm?token={token}")
    assert response.status_code == 403
    words = visible(response)
    assert "Les 30 jours pour répondre sont passés" in words
    assert_no_status_code(words)
    english = visible(
        client.get(f"/reports/{resolved.reference}/confirm?token={token}", headers=ENGLISH)
    )
    assert "The 30 days to answer have passed" in english


def test_a_link_older_than_30_days_tells_what_happened_since(client, app, resolved, staff):
    old = URLSafeTimedSerializer(app.secret_key, salt="reporter-action", signer=PastSigner)
    token = old.dumps({"report": resolved.id, "action": "reopen"})
    answer(client, resolved, "reopen", comment="Toujours là.")
    words = visible(client.get(f"/reports/{resolved.reference}/reopen?token={token}"))
    assert "Vous avez rouvert ce signalement le " in words
    db.session.refresh(resolved)
    transition(resolved, "resolved", Actor.of(staff["agent.voirie"]), text="Refait.")
    db.session.commit()
    words = visible(client.get(f"/reports/{resolved.reference}/reopen?token={token}"))
    assert "Les 30 jours pour répondre sont passés." in words  # a newer email has its own link
    assert_no_status_code(words)
