"""Creating accounts."""

import functools
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from tellcity.accounts.models import DEPARTMENT_ROLES, Role, User
from tellcity.accounts.passwords import hash_password, needs_rehash, verify_password
from tellcity.cities.models import City
from tellcity.core.db import utcnow
from tellcity.departments.models import Department
from tellcity.extensions import db, login_manager


class AccountError(ValueError):
    """The account cannot be created as asked; the message says why."""


def generate_password() -> str:
    """A password to hand to a new member of staff: 16 URL-safe characters (96 bits)."""
    return secrets.token_urlsafe(12)


def create_user(
    email: str,
    *,
    role: str = Role.RESIDENT,
    name: str = "",
    password: str | None = None,
    city: City | None = None,
    department: Department | None = None,
) -> tuple[User, str]:
    """Add a user and flush. Returns the user and their password (generated when none is
    given), which the caller shows once: only its hash is kept.

    Raises AccountError for an unknown role, a taken email, or a department role without a
    department.
    """
    email = email.strip().lower()
    if role not in set(Role):
        raise AccountError(f"unknown role {role!r}; one of: {', '.join(Role)}")
    if "@" not in email:
        raise AccountError(f"{email!r} is not an email address")
    if role in DEPARTMENT_ROLES and department is None:
        raise AccountError(f"a {role} belongs to a department: name one")
    if db.session.scalar(sa.select(User.id).where(User.email == email)):
        raise AccountError(f"an account for {email} already exists")
    if department is not None:
        city = department.city
    password = password or generate_password()
    user = User(email=email, name=name, role=role, city=city, department=department)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user, password


#: Sign-in attempts that fail in a row before the account is locked, and for how long.
MAX_FAILED_SIGNINS = 5
LOCKOUT = timedelta(minutes=15)


class AccountLocked(Exception):
    """Too many failed sign-ins: the account is locked until `until`."""

    def __init__(self, until: datetime):
        super().__init__(f"locked until {until.isoformat()}")
        self.until = until


def authenticate(email: str, password: str, now: datetime | None = None) -> User | None:
    """The active user with this email and password, or None. Failed attempts are counted and
    lock the account for 15 minutes after 5 in a row (raising AccountLocked, even with the
    right password while it lasts). The caller commits."""
    now = now or utcnow()
    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None or not user.is_active:
        # As long as a real check, so that the answer's time does not tell who has an account.
        verify_password(_unknown_user_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        return None
    if user.locked_until is not None and user.locked_until > now:
        raise AccountLocked(user.locked_until)
    if not user.check_password(password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_SIGNINS:
            user.locked_until, user.failed_logins = now + LOCKOUT, 0
        return None
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    if needs_rehash(user.password_hash, current_app.config["PASSWORD_HASH_METHOD"]):
        user.set_password(password)  # made by an older method: the one configured now
    return user


@functools.cache
def _unknown_user_hash(method: str) -> str:
    return hash_password("not anybody's password", method)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.is_active else None
