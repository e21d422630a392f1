"""Two-factor sign-in for staff, end to end over HTTP, with the codes computed as the phone
app computes them (pyotp)."""

import re

import pyotp
import pytest
import sqlalchemy as sa

from tellcity.accounts.models import User
from tellcity.audit.models import AuditEntry
from tellcity.cities.models import City
from tellcity.core.db import utcnow
from tellcity.extensions import db
from tests.accounts.helpers import SECRET, code_for, enrol, sign_in, user_by_email
from tests.admin.helpers import audit, flashes, fresh, post
from tests.factories import make_city, make_user
from tests.web.helpers import form_tokens, text

PASSWORD = "un mot de passe solide"
AGENT = "agent.voirie@issy.example.org"


@pytest.fixture
def agent(staff):
    """The road works agent, with a known password and no second factor."""
    user = staff["agent.voirie"]
    user.set_password(PASSWORD)
    db.session.commit()
    return user


@pytest.fixture
def enrolled_agent(agent):
    """The agent with a second factor; `.recovery_codes` holds their recovery codes."""
    agent.recovery_codes = enrol(agent, SECRET)
    db.session.commit()
    return agent


def send_code(client, code: str, url: str = "/account/signin/code"):
    return client.post(url, data={**form_tokens(client, url), "code": code})


def a_wrong_code(secret: str) -> str:
    """A 6-digit code that no time step near now has."""
    totp = pyotp.TOTP(secret)
    now = totp.timecode(utcnow())
    right = {totp.generate_otp(step) for step in range(now - 2, now + 3)}
    return next(code for code in ("000000", "111111", "222222") if code not in right)


def signed_in(client) -> bool:
    return client.get("/staff/").status_code == 200


def test_setting_up_shows_a_qr_code_and_takes_a_right_code(client, login_as, agent):
    login_as("agent.voirie")
    page = client.get("/account/two-factor/setup")
    assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]
    assert "<svg" in text(page) and 'class="segno"' in text(page)
    secret = re.search(r'class="secret-value totp-secret">([A-Z2-7]+)<', text(page)).group(1)
    assert fresh(User, agent.id).totp_secret is None  # nothing stored before a code confirms it

    refused = send_code(client, a_wrong_code(secret), "/account/two-factor/setup")
    assert refused.status_code == 422 and "This code is not right" in text(refused)
    assert not fresh(User, agent.id).has_two_factor

    done = send_code(client, pyotp.TOTP(secret).now(), "/account/two-factor/setup")
    assert done.status_code == 200 and "no-store" in done.headers["Cache-Control"]
    codes = re.findall(r'<code class="secret-value">([a-z2-9-]+)</code>', text(done))
    assert len(codes) == 10 and len(set(codes)) == 10
    user = fresh(User, agent.id)
    assert user.has_two_factor and user.totp_secret == secret
    assert not any(code in str(user.recovery_code_hashes) for code in codes)  # hashes only
    assert client.get("/account/two-factor/setup").status_code == 302  # on: nothing to set up


def test_the_qr_code_names_the_city_and_the_email(client, login_as, agent):
    from tellcity.accounts import two_factor

    uri = two_factor.provisioning_uri(agent, SECRET)
    assert uri.startswith("otpauth://totp/")
    assert "issuer=TellCity%20Issy-les-Moulineaux" in uri and "agent.voirie%40issy" in uri


def test_sign_in_waits_for_the_code_and_takes_each_code_once(client, enrolled_agent):
    asked = sign_in(client, AGENT, PASSWORD, remember="y")
    assert asked.status_code == 302 and asked.location == "/account/signin/code"
    assert "remember_token" not in asked.headers.get("Set-Cookie", "")
    assert not signed_in(client)  # the password alone signs nobody in, "remember me" or not

    code = code_for(enrolled_agent)
    done = send_code(client, code)
    assert done.status_code == 302 and done.location == "/staff/"
    assert "remember_token" in done.headers.get("Set-Cookie", "")
    assert signed_in(client)

    client.post("/account/signout", data=form_tokens(client, "/report"))
    sign_in(client, AGENT, PASSWORD)
    replayed = send_code(client, code)
    assert replayed.status_code == 422 and "Wrong code." in text(replayed)
    assert not signed_in(client)


def test_a_recovery_code_signs_in_once(client, enrolled_agent):
    code = enrolled_agent.recovery_codes[3]
    sign_in(client, AGENT, PASSWORD)
    assert send_code(client, code.upper().replace("-", " ")).status_code == 302
    assert signed_in(client)
    assert len(fresh(User, enrolled_agent.id).recovery_code_hashes) == 9
    sign_in(client, AGENT, PASSWORD)
    assert send_code(client, code).status_code == 422
    assert not signed_in(client)


def test_wrong_codes_lock_the_account_like_wrong_passwords(client, enrolled_agent):
    wrong = a_wrong_code(SECRET)
    sign_in(client, AGENT, PASSWORD)
    for _ in range(4):
        assert "Wrong code." in text(send_code(client, wrong))
    # A right password again does not give four more tries at the code.
    sign_in(client, AGENT, PASSWORD)
    assert "Wrong code." in text(send_code(client, wrong))  # the fifth in a row
    locked = send_code(client, code_for(enrolled_agent))
    assert "locked for 15 minutes" in text(locked)
    assert fresh(User, enrolled_agent.id).locked_until is not None
    again = sign_in(client, AGENT, PASSWORD)
    assert again.status_code == 422 and "locked for 15 minutes" in text(again)
    assert not signed_in(client)


def test_the_code_step_is_rate_limited_like_the_password(app, client, enrolled_agent):
    app.config["RATELIMIT_SIGNIN"] = "2 per minute"
    sign_in(client, AGENT, PASSWORD)
    wrong = a_wrong_code(SECRET)
    answers = [send_code(client, wrong).status_code for _ in range(3)]
    assert answers[:2] == [422, 422] and answers[2] == 429


def test_the_code_step_expires(client, enrolled_agent):
    sign_in(client, AGENT, PASSWORD)
    with client.session_transaction() as session:
        session["signin_pending"] = {**session["signin_pending"], "until": 0}
    token = form_tokens(client, "/report")["csrf_token"]
    late = client.post(
        "/account/signin/code", data={"csrf_token": token, "code": code_for(enrolled_agent)}
    )
    assert late.status_code == 302 and late.location == "/account/signin"
    assert not signed_in(client)


def test_an_administrator_without_a_second_factor_sets_it_up_first(client, demo_city):
    admin = make_user(email="new.admin@issy.example.org", role="admin", city=demo_city)
    admin.set_password(PASSWORD)
    db.session.commit()
    assert sign_in(client, admin.email, PASSWORD).status_code == 302
    for page in ("/staff/", "/staff/admin/", "/staff/admin/users", "/account/reports"):
        answer = client.get(page)
        assert answer.status_code == 302, page
        assert answer.location == "/account/two-factor/setup", page
    token = form_tokens(client, "/account/two-factor/setup")["csrf_token"]
    answer = client.post(
        "/staff/admin/users/two-factor", data={"csrf_token": token, "required": "1"}
    )
    assert answer.status_code == 403
    assert not fresh(City, demo_city.id).staff_2fa_required
    api = client.get("/api/v1/stats")
    assert api.status_code == 403 and api.json["error"]["code"] == "two_factor_setup_required"

    page = text(client.get("/account/two-factor/setup"))
    assert "Your account must sign in with a code from your phone" in page
    secret = re.search(r'class="secret-value totp-secret">([A-Z2-7]+)<', page).group(1)
    send_code(client, pyotp.TOTP(secret).now(), "/account/two-factor/setup")
    assert client.get("/staff/admin/").status_code == 200


def test_the_city_setting_requires_it_of_every_member_of_staff(client, login_as, agent, staff):
    login_as("resident")
    assert client.get("/account/reports").status_code == 200
    login_as("agent.voirie")
    assert client.get("/staff/").status_code == 200  # not required by default

    login_as("admin")
    answer = post(client, "/staff/admin/users/two-factor", {"required": "1"})
    assert answer.status_code == 302
    assert flashes(client) == ["Every member of staff now signs in with a second factor."]
    assert fresh(City, agent.city_id).staff_2fa_required
    [entry] = audit("cities", agent.city_id, "update")
    assert entry.before == {"staff_2fa_required": False}
    assert entry.after == {"staff_2fa_required": True}
    assert 'name="required" value="1" checked' in text(client.get("/staff/admin/users"))

    login_as("agent.voirie")
    assert client.get("/staff/").location == "/account/two-factor/setup"
    login_as("cabinet")
    assert client.get("/staff/").location == "/account/two-factor/setup"
    login_as("resident")  # residents are never asked
    assert client.get("/account/reports").status_code == 200
    assert client.get("/account/two-factor").status_code == 403


def test_an_administrator_resets_a_lost_second_factor(client, login_as, enrolled_agent, staff):
    login_as("admin")
    page = text(client.get(f"/staff/admin/users/{enrolled_agent.id}"))
    assert "Reset two-factor sign-in" in page and "data-confirm=" in page
    without_csrf = client.post(f"/staff/admin/users/{enrolled_agent.id}/two-factor/reset")
    assert without_csrf.status_code == 400
    assert fresh(User, enrolled_agent.id).has_two_factor

    answer = post(client, f"/staff/admin/users/{enrolled_agent.id}/two-factor/reset")
    assert answer.status_code == 302
    assert flashes(client) == [f"Two-factor sign-in of {AGENT} is reset."]
    user = fresh(User, enrolled_agent.id)
    assert not user.has_two_factor and user.recovery_code_hashes is None
    [*_, entry] = audit("users", enrolled_agent.id, "update")
    assert entry.actor_id == staff["admin"].id
    assert entry.before["totp_enabled_at"] and entry.after["totp_enabled_at"] is None

    # Not required of agents here: the password alone signs them in again.
    assert sign_in(client, AGENT, PASSWORD).location == "/staff/"


def test_a_reset_agent_sets_it_up_again_when_the_city_requires_it(
    client, login_as, enrolled_agent, demo_city
):
    demo_city.staff_2fa_required = True
    db.session.commit()
    login_as("admin")
    post(client, f"/staff/admin/users/{enrolled_agent.id}/two-factor/reset")
    sign_in(client, AGENT, PASSWORD)
    assert client.get("/staff/").location == "/account/two-factor/setup"


def test_nobody_resets_their_own_or_another_city_s(client, login_as, staff, enrolled_agent):
    admin = staff["admin"]
    login_as("admin")
    post(client, f"/staff/admin/users/{admin.id}/two-factor/reset")
    assert flashes(client) == ["Reset your own two-factor sign-in from your account, with a code."]
    assert fresh(User, admin.id).has_two_factor

    outsider = make_user(email="admin@elsewhere.example.org", role="admin", city=make_city())
    enrol(outsider)
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = str(outsider.id), True
    answer = post(client, f"/staff/admin/users/{enrolled_agent.id}/two-factor/reset")
    assert answer.status_code == 404
    assert fresh(User, enrolled_agent.id).has_two_factor
    entries = db.session.scalars(sa.select(AuditEntry)).all()
    assert not any(
        entry.actor_id == outsider.id and entry.entity_id == enrolled_agent.id for entry in entries
    )


def test_one_s_own_reset_takes_a_code(client, login_as, enrolled_agent):
    login_as("agent.voirie")
    refused = send_code(client, a_wrong_code(SECRET), "/account/two-factor/off")
    assert refused.status_code == 422 and "This code is not right" in text(refused)
    assert fresh(User, enrolled_agent.id).has_two_factor
    done = send_code(client, code_for(enrolled_agent), "/account/two-factor/off")
    assert done.status_code == 302
    assert not fresh(User, enrolled_agent.id).has_two_factor
    [entry] = audit("users", enrolled_agent.id, "update")
    assert entry.actor_id == enrolled_agent.id and entry.after["totp_enabled_at"] is None
    assert "totp_secret" not in entry.before and "recovery_code_hashes" not in entry.before


def test_new_recovery_codes_replace_the_old_ones(client, login_as, enrolled_agent):
    login_as("agent.voirie")
    page = send_code(client, code_for(enrolled_agent), "/account/two-factor/recovery-codes")
    new = re.findall(r'<code class="secret-value">([a-z2-9-]+)</code>', text(page))
    assert len(new) == 10 and "no longer work" in text(page)
    sign_in(client, AGENT, PASSWORD)
    assert send_code(client, enrolled_agent.recovery_codes[0]).status_code == 422
    sign_in(client, AGENT, PASSWORD)
    assert send_code(client, new[0]).status_code == 302


def test_the_demo_administrator_signs_in_with_a_code(client, staff, demo_city):
    [account] = [a for a in demo_city.accounts if a.email.startswith("admin@")]
    answer = sign_in(client, account.email, account.password, user=staff["admin"])
    assert answer.status_code == 302 and answer.location == "/staff/"
    assert client.get("/staff/admin/").status_code == 200
    assert user_by_email(account.email).last_login_at is not None


def test_the_command_line_tells_new_administrators_and_resets_a_lost_phone(cli, staff):
    created = cli.invoke(args=["create-user", "chef.it@issy.example.org", "--role", "admin"])
    assert created.exit_code == 0, created.output
    assert "asks to set up two-factor sign-in" in created.output
    agent = cli.invoke(
        args=["create-user", "a2@issy.example.org", "--role", "agent", "--department", "voirie"]
    )
    assert "two-factor" not in agent.output

    reset = cli.invoke(args=["reset-two-factor", "admin@issy.example.org"])
    assert reset.exit_code == 0, reset.output
    assert not user_by_email("admin@issy.example.org").has_two_factor
    again = cli.invoke(args=["reset-two-factor", "admin@issy.example.org"])
    assert again.exit_code != 0 and "does not use two-factor sign-in" in again.output
