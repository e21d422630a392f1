"""Accounts: creating one (a resident signing up with create_user; a member of staff, by an
administrator or a command, with the audited create_account), changing a role or a password,
deactivating; signing in.

The staff services take the acting `actor=`, check that they may make the change (raising
NotAllowed, see tellcity.admin.access), validate it (raising Invalid with the form field at
fault, or Conflict), record an AuditEntry with the values before and after, and flush; the
caller commits."""

import functools
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from tellcity.accounts.models import DEPARTMENT_ROLES, Role, User
from tellcity.accounts.passwords import hash_password, needs_rehash, verify_password
from tellcity.accounts.queries import user_by_email
from tellcity.admin.access import require_admin
from tellcity.admin.validation import row_in_city
from tellcity.audit.services import record, snapshot
from tellcity.cities.models import City
from tellcity.core.db import utcnow
from tellcity.core.errors import Conflict, Invalid
from tellcity.core.permissions import Actor
from tellcity.core.transaction import keep_on_error
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
    locale: str | None = None,
) -> tuple[User, str]:
    """Add a user and flush. Returns the user and their password (generated when none is
    given), which the caller shows once: only its hash is kept. `locale`: the language they
    chose, if they did; without one their pages follow their browser's.

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
    user = User(email=email, name=name, role=role, city=city, department=department, locale=locale)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user, password


def create_account(
    city: City | None, data: Mapping, *, actor: Actor, password: str | None = None
) -> tuple[User, str]:
    """Open an account in `city` (None: of no city; `data`: email, name, role, department_id)
    with `password`, or a generated one. Returns the user and the password, to show once:
    only its hash is kept.

    Raises NotAllowed; Invalid for an address already used, an unknown role, or an agent or a
    manager without a department of the city.
    """
    city_id = city.id if city is not None else None
    require_admin(actor, city_id)
    email = (data["email"] or "").strip().lower()
    if "@" not in email:
        raise Invalid(_("This is not an email address."), field="email")
    if db.session.scalar(sa.select(User.id).where(User.email == email)):
        raise Invalid(_("An account for %(email)s already exists.", email=email), field="email")
    department = _role_department(city_id, data["role"], data["department_id"])
    try:
        user, password = create_user(
            email,
            role=data["role"],
            name=(data["name"] or "").strip(),
            password=password,
            city=city,
            department=department,
        )
    except AccountError as error:
        raise Invalid(str(error), field="email") from None
    record(actor, "create", user)
    return user, password


def _role_department(
    city_id: int | None, role: str, department_id: int | None
) -> Department | None:
    """The department a user of `role` belongs to: required for agents and managers, none for
    the other roles."""
    if role not in set(Role):
        raise Invalid(_("Choose one of the list."), field="role")
    if role not in DEPARTMENT_ROLES:
        return None
    if department_id is None:
        raise Invalid(
            _("Agents and managers belong to a department: choose one."), field="department_id"
        )
    return row_in_city(Department, department_id, city_id, "department_id")


def update_account(user: User, data: Mapping, *, actor: Actor) -> None:
    """Change a user's name, role and department (`data`: name, role, department_id).

    Raises NotAllowed; Invalid for an administrator changing their own role, or a department
    missing or of another city.
    """
    require_admin(actor, user.city_id)
    if user.id == actor.user.id and data["role"] != user.role:
        raise Invalid(
            _("You cannot change your own role: ask another administrator."), field="role"
        )
    department = _role_department(user.city_id, data["role"], data["department_id"])
    before = snapshot(user)
    user.name = (data["name"] or "").strip()
    user.role = data["role"]
    user.department = department
    record(actor, "update", user, before)


def choose_language(user: User, code: str) -> None:
    """Keep the language `user` chose (one of tellcity.core.i18n.LANGUAGES) for their pages
    and emails; until they choose, they follow their browser's (see core/i18n.py)."""
    user.locale = code


def set_account_active(user: User, is_active: bool, *, actor: Actor) -> None:
    """Deactivate an account (its owner can no longer sign in) or reactivate it.

    Raises NotAllowed; Conflict for an administrator deactivating themselves.
    """
    require_admin(actor, user.city_id)
    if user.id == actor.user.id and not is_active:
        raise Conflict(_("You cannot deactivate your own account."))
    before = snapshot(user)
    user.is_active = is_active
    record(actor, "update", user, before)


def reset_password(user: User, *, actor: Actor) -> str:
    """Give `user` a new generated password and unlock their account. Returns the password, to
    show once: only its hash is kept. Raises NotAllowed."""
    require_admin(actor, user.city_id)
    before = snapshot(user)
    password = generate_password()
    user.set_password(password)
    user.failed_logins, user.locked_until = 0, None
    record(actor, "update", user, before)
    return password


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
    right password while it lasts). A user with a second factor is signed in only once its
    code is checked too. The caller commits; a request keeps the failed attempts it counts even
    when it answers an error."""
    now = now or utcnow()
    user = user_by_email(email)
    if user is None or not user.is_active:
        # As long as a real check, so that the answer's time does not tell who has an account.
        verify_password(_unknown_user_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        return None
    if user.locked_until is not None and user.locked_until > now:
        raise AccountLocked(user.locked_until)
    if not user.check_password(password):
        count_failed_signin(user, now)
        return None
    if needs_rehash(user.password_hash, current_app.config["PASSWORD_HASH_METHOD"]):
        user.set_password(password)  # made by an older method: the one configured now
    # With a second factor the count goes on until its code is right: else each right password
    # would give four more tries at the code (tellcity.accounts.two_factor.check_code).
    if not user.has_two_factor:
        record_signin(user, now)
    return user


def count_failed_signin(user: User, now: datetime) -> None:
    """A wrong password or code: the 5th in a row locks the account for 15 minutes. Counted
    even though the request answers the attempt with an error."""
    keep_on_error()
    user.failed_logins += 1
    if user.failed_logins >= MAX_FAILED_SIGNINS:
        user.locked_until, user.failed_logins = now + LOCKOUT, 0


def record_signin(user: User, now: datetime) -> None:
    """A complete sign-in: the failed attempts are forgotten."""
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now


@functools.cache
def _unknown_user_hash(method: str) -> str:
    return hash_password("not anybody's password", method)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.is_active else None
