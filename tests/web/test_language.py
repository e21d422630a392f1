"""The page's language: the switch (a cookie) first, then the language a signed-in user chose,
then the browser's languages, then a signed-in user's city's, French by default."""

import re

import pytest
import sqlalchemy as sa

from tellcity.accounts.models import User
from tellcity.extensions import db
from tellcity.reports.models import Report
from tests.web.helpers import form_tokens, post_form, text


def language(response) -> str:
    return re.search(r'<html lang="([a-z]+)">', text(response)).group(1)


@pytest.fixture
def english_resident(demo_city, staff):
    """The demo resident, who chose English, signed in through the form ("keep me signed
    in" ticked)."""
    resident = staff["resident"]
    resident.locale = "en"
    db.session.commit()
    [account] = [a for a in demo_city.accounts if a.email == resident.email]
    return account


def sign_in(client, account, remember: bool = False) -> None:
    form = {"email": account.email, "password": account.password}
    if remember:
        form["remember"] = "y"
    assert post_form(client, "/account/signin", form).status_code == 302


def test_french_by_default_and_the_browsers_language_otherwise(client, demo_city):
    assert language(client.get("/")) == "fr"
    assert language(client.get("/", headers={"Accept-Language": "en-GB,en;q=0.8"})) == "en"


def test_a_signed_in_user_reads_the_pages_in_their_language(client, english_resident):
    sign_in(client, english_resident)
    assert language(client.get("/", headers={"Accept-Language": "fr"})) == "en"


def test_the_remember_me_cookie_alone_still_brings_the_users_language(
    client, app, english_resident
):
    sign_in(client, english_resident, remember=True)
    client.delete_cookie(app.config["SESSION_COOKIE_NAME"])  # the browser was closed
    assert language(client.get("/")) == "en"


def test_the_switch_outranks_the_users_preference(client, english_resident):
    sign_in(client, english_resident)
    client.get("/lang/fr")
    assert language(client.get("/")) == "fr"


def test_an_app_submission_is_kept_in_the_language_of_its_request(client, demo_city):
    """The reporter's emails are written in it."""
    body = {"category": "pothole", "lat": 48.8245, "lon": 2.2735, "address": "1 rue Minard"}
    for accept, expected in (("en-US,en;q=0.9", "en"), ("fr", "fr"), ("de", "fr")):
        response = client.post(
            "/api/v1/reports",
            json={**body, "description": f"Deep hole ({accept})"},
            headers={"Accept-Language": accept},
        )
        assert response.status_code == 201
        reference = response.json["reference"]
        locale = db.session.scalar(sa.select(Report.locale).where(Report.reference == reference))
        assert locale == expected


def test_an_account_that_never_chose_follows_the_browser_then_its_city(client, demo_city, staff):
    """Accounts are made without a language: an English-speaking browser reads English, a
    French one French, one of neither the language of the user's city."""
    agent = staff["agent.voirie"]
    assert agent.locale is None
    [account] = [a for a in demo_city.accounts if a.email == agent.email]
    sign_in(client, account)
    assert language(client.get("/staff/", headers={"Accept-Language": "en-GB,en;q=0.9"})) == "en"
    assert language(client.get("/staff/", headers={"Accept-Language": "fr-FR"})) == "fr"
    demo_city.locale = "en"
    db.session.commit()
    assert language(client.get("/staff/", headers={"Accept-Language": "de-DE"})) == "en"
    assert language(client.get("/", headers={"Accept-Language": "fr"})) == "fr"


def test_the_switch_keeps_a_signed_in_users_choice_for_their_other_browsers(
    client, app, demo_city, staff
):
    agent = staff["agent.voirie"]
    [account] = [a for a in demo_city.accounts if a.email == agent.email]
    sign_in(client, account)
    client.get("/lang/en")
    db.session.expire_all()
    assert db.session.get(User, agent.id).locale == "en"
    client.delete_cookie("lang")  # another browser, a French one
    assert language(client.get("/staff/", headers={"Accept-Language": "fr"})) == "en"


def test_an_account_opened_after_choosing_a_language_keeps_it(client, demo_city):
    form = {"email": "{}@example.org", "password": "un mot de passe solide"}
    form["confirm"] = form["password"]
    for name, chosen in (("sans", None), ("with", "en")):
        if chosen:
            client.get(f"/lang/{chosen}")
        answer = post_form(client, "/account/signup", {**form, "email": f"{name}@example.org"})
        assert answer.status_code == 302
        client.post("/account/signout", data=form_tokens(client, "/"))
        user = db.session.scalar(sa.select(User).where(User.email == f"{name}@example.org"))
        assert user.locale == chosen
