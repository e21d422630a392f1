from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import current_app
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tellcity.accounts.passwords import hash_password, verify_password
from tellcity.core.db import Json, UTCDateTime, in_list, utcnow
from tellcity.extensions import db

if TYPE_CHECKING:
    from tellcity.cities.models import City
    from tellcity.departments.models import Department


class Role(StrEnum):
    RESIDENT = "resident"
    AGENT = "agent"
    MANAGER = "manager"
    MAYOR = "mayor"
    ADMIN = "admin"


#: Roles that work inside one department and so must belong to one.
DEPARTMENT_ROLES = (Role.AGENT, Role.MANAGER)
STAFF_ROLES = (Role.AGENT, Role.MANAGER, Role.MAYOR, Role.ADMIN)


class User(UserMixin, db.Model):
    """A resident or a member of staff. Staff of a department (agents and managers) belong to
    exactly one; the mayor's office and administrators see the whole city (or, for an
    administrator without a city, every city)."""

    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(in_list("role", list(Role)), name="role"),
        sa.CheckConstraint("email = lower(email)", name="email_lowercase"),
        sa.CheckConstraint(
            f"NOT ({in_list('role', DEPARTMENT_ROLES)}) OR department_id IS NOT NULL",
            name="department_staff_have_department",
        ),
        sa.CheckConstraint("failed_logins >= 0", name="failed_logins_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    password_hash: Mapped[str | None] = mapped_column(sa.String(256))
    role: Mapped[str] = mapped_column(sa.String(16), default=Role.RESIDENT)
    city_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("cities.id", ondelete="CASCADE"), index=True
    )
    department_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("departments.id", ondelete="RESTRICT"), index=True
    )
    #: The language the user chose (the switch, signed in); None until they do: their pages
    #: then follow their browser (tellcity.core.i18n), their emails their city.
    locale: Mapped[str | None] = mapped_column(sa.String(5))
    is_active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Two-factor sign-in (tellcity.accounts.two_factor): the TOTP secret, kept as it is (no
    #: encryption library is among the dependencies), set once a code confirmed it; when that
    #: was; the last time step whose code was accepted (no code is accepted twice); and the
    #: SHA-256 hashes of the one-time recovery codes not used yet.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    recovery_code_hashes: Mapped[list | None] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    city: Mapped["City | None"] = relationship()
    department: Mapped["Department | None"] = relationship()

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password, current_app.config["PASSWORD_HASH_METHOD"])

    def check_password(self, password: str) -> bool:
        return self.password_hash is not None and verify_password(self.password_hash, password)

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def has_two_factor(self) -> bool:
        return self.totp_enabled_at is not None and self.totp_secret is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class ApiKey(db.Model):
    """A key an Open311 client or another system presents. Only a hash of the key is kept; the
    `prefix` (not secret) finds the row and tells keys apart in the admin pages."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    prefix: Mapped[str] = mapped_column(sa.String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(sa.String(128))
    #: The city the key may act on; null for every city.
    city_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("cities.id", ondelete="CASCADE"), index=True
    )
    #: What the key may do, e.g. ["open311", "stats"].
    scopes: Mapped[list] = mapped_column(Json, default=list)
    #: How many reports its program may send, in the rate limiter's notation ("300 per
    #: minute;20000 per day"); null for RATELIMIT_API_KEY (tellcity.accounts.budgets).
    rate_limit: Mapped[str | None] = mapped_column(sa.String(100))
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<ApiKey {self.prefix} {self.name!r}>"
