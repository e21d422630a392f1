"""Two-factor sign-in as the phone app does it: codes computed from the secret with pyotp."""

import pyotp
import sqlalchemy as sa

from tellcity.accounts import two_factor
from tellcity.accounts.models import User
from tellcity.core.db import utcnow
from tellcity.extensions import db
from tests.web.helpers import form_tokens, post_form

#: The secret of the demo administrator's app in the tests (tests/conftest.py `staff`).
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def code_for(user: User, secret: str | None = None) -> str:
    """A code the user's app shows that the site has not taken yet: the current time step's,
    or the next one's when the current one was used (the site takes a step either side)."""
    db.session.expire_all()  # the requests commit in sessions of their own
    user = db.session.get(User, user.id)
    totp = pyotp.TOTP(secret or user.totp_secret)
    step = totp.timecode(utcnow())
    if user.totp_last_step is not None and step <= user.totp_last_step:
        step = user.totp_last_step + 1
    return totp.generate_otp(step)


def enrol(user: User, secret: str = SECRET) -> list[str]:
    """Set up the user's second factor as its page does, with a code of the app; returns the
    recovery codes. The caller commits."""
    return two_factor.set_up(user, secret, pyotp.TOTP(secret).now())


def sign_in(client, email: str, password: str, user: User | None = None, **fields):
    """Sign in through the pages: the password, then (for `user` with a second factor) a code
    of their app. Returns the last answer."""
    with client.session_transaction() as session:
        session.clear()
    answer = post_form(client, "/account/signin", {"email": email, "password": password, **fields})
    if user is None or answer.location != "/account/signin/code":
        return answer
    return client.post(
        "/account/signin/code",
        data={**form_tokens(client, "/account/signin/code"), "code": code_for(user)},
    )


def user_by_email(email: str) -> User:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.email == email))
