"""Passwords are stored as Argon2id hashes (OWASP's first choice, at its recommended minimum);
older hashes still sign in and are replaced by the configured kind on the way."""

import pytest
from werkzeug.security import generate_password_hash

from tellcity.accounts.services import authenticate
from tellcity.extensions import db

PASSWORD = "un mot de passe solide"


@pytest.fixture
def argon2(app):
    app.config["PASSWORD_HASH_METHOD"] = "argon2id"  # the default; the test suite uses PBKDF2


def test_a_password_is_stored_as_an_argon2id_hash(argon2, staff):
    agent = staff["agent.voirie"]
    agent.set_password(PASSWORD)
    assert agent.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PASSWORD not in agent.password_hash
    assert agent.check_password(PASSWORD)
    assert not agent.check_password(PASSWORD + " ")
    assert not agent.check_password("")


def test_an_older_scrypt_hash_signs_in_and_is_replaced(argon2, staff):
    agent = staff["agent.voirie"]
    agent.password_hash = generate_password_hash(PASSWORD, method="scrypt:16384:8:1")
    db.session.commit()
    assert authenticate(agent.email, "not it") is None
    assert agent.password_hash.startswith("scrypt:")  # a wrong password changes nothing
    assert authenticate(agent.email, PASSWORD) == agent
    db.session.commit()
    db.session.refresh(agent)
    assert agent.password_hash.startswith("$argon2id$")
    assert authenticate(agent.email, PASSWORD) == agent


def test_a_damaged_hash_refuses_every_password(argon2, staff):
    agent = staff["agent.voirie"]
    agent.password_hash = "$argon2id$v=19$m=19456,t=2,p=1$garbage"
    assert not agent.check_password(PASSWORD)
    assert authenticate(agent.email, PASSWORD) is None


def test_an_unknown_email_is_refused_like_a_wrong_password(argon2, staff):
    assert authenticate("nobody@issy.example.org", PASSWORD) is None
