"""Reads of accounts and API keys."""

import sqlalchemy as sa

from tellcity.accounts.models import ApiKey, User
from tellcity.extensions import db


def user_by_id(user_id: int) -> User | None:
    """The account numbered `user_id`, if any."""
    return db.session.get(User, user_id)


def user_by_email(email: str) -> User | None:
    """The account of `email`, whatever its case and surrounding spaces."""
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


def api_key_by_prefix(prefix: str) -> ApiKey | None:
    """The key whose prefix (the part before the dot) is `prefix`."""
    return db.session.scalar(sa.select(ApiKey).where(ApiKey.prefix == prefix.strip()))
