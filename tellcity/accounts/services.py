"""Creating accounts."""

import secrets

import sqlalchemy as sa

from tellcity.accounts.models import DEPARTMENT_ROLES, Role, User
from tellcity.cities.models import City
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


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.is_active else None
