"""Staff sign in with throttling and lockout; the session cookie is locked down."""

from datetime import timedelta

import pytest

from tellcity.accounts.services import AccountLocked, authenticate
from tellcity.core.db import utcnow
from tellcity.extensions import db
from tests.web.helpers import post_form, text

PASSWORD = "un mot de passe solide"


@pytest.fixture
def agent(staff):
    user = staff["agent.voirie"]
    user.set_password(PASSWORD)
    db.session.commit()
    return user


def sign_in(client, password):
    return post_form(
        client, "/account/signin", {"email": "agent.voirie@issy.example.org", "password": password}
    )


def test_staff_land_on_their_queue_with_a_locked_down_cookie(client, agent):
    response = sign_in(client, PASSWORD)
    assert response.status_code == 302 and response.location == "/staff/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_five_failures_lock_the_account_even_for_the_right_password(client, agent):
    for _ in range(5):
        assert "Adresse ou mot de passe incorrect." in text(sign_in(client, "wrong"))
    locked = sign_in(client, PASSWORD)
    assert locked.status_code == 422
    assert "bloqué pendant 15 minutes" in text(locked)
    db.session.refresh(agent)
    assert agent.locked_until is not None


def test_the_lock_lifts_after_15_minutes(app, agent):
    for _ in range(5):
        authenticate(agent.email, "wrong")
    with pytest.raises(AccountLocked):
        authenticate(agent.email, PASSWORD)
    assert authenticate(agent.email, PASSWORD, now=utcnow() + timedelta(minutes=16)) == agent
    assert agent.failed_logins == 0


def test_sign_in_is_rate_limited(app, client, agent):
    app.config["RATELIMIT_SIGNIN"] = "3 per minute"
    codes = [sign_in(client, "wrong").status_code for _ in range(4)]
    assert codes[-1] == 429


def test_https_deployments_get_secure_cookies(tmp_path):
    from tellcity import create_app

    app = create_app({"INSTANCE_PATH": str(tmp_path), "BASE_URL": "https://signaler.example"})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
