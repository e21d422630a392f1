"""The session cookie is signed with the app's secret key: changing the key signs everybody
out, unless the old key is kept in SECRET_KEY_FALLBACKS (a rotation)."""

from tests.web.helpers import post_form


def signed_in(client) -> bool:
    return client.get("/account/reports").status_code == 200


def sign_in_resident(client, demo_city) -> None:
    [account] = [a for a in demo_city.accounts if a.email.startswith("resident@")]
    form = {"email": account.email, "password": account.password}
    assert post_form(client, "/account/signin", form).status_code == 302
    assert signed_in(client)


def test_a_new_secret_key_signs_everybody_out(app, client, demo_city):
    sign_in_resident(client, demo_city)
    app.secret_key = "a new key"
    assert not signed_in(client)


def test_a_rotated_key_kept_as_a_fallback_keeps_people_signed_in(app, client, demo_city):
    sign_in_resident(client, demo_city)
    old = app.secret_key
    app.config["SECRET_KEY_FALLBACKS"] = [old]
    app.secret_key = "a new key"
    assert signed_in(client)
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert not signed_in(client)
