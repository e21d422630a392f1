"""API keys for other systems (an Open311 app, a statistics dashboard): created with a random
secret shown once, stored as a prefix (to find the row) and a SHA-256 hash (to check the key),
checked in constant time.

A key reads `<prefix>.<secret>`: 12 hexadecimal characters that are not secret, a dot, then 43
URL-safe random characters (256 bits). SHA-256 is enough here, unlike for passwords: the
secret is random and long, so there is nothing to guess from its hash.

Creating and revoking a key take the acting `actor=` (an administrator, or the CLI), check that
they may (raising NotAllowed, see tellcity.admin.access) and record an AuditEntry. Every
function adds to the session and flushes; the caller commits.
"""

import hashlib
import hmac
import secrets
from collections.abc import Iterable

import sqlalchemy as sa
from flask import request
from flask_babel import gettext as _
from limits import parse_many

from tellcity.accounts.models import ApiKey
from tellcity.admin.access import require_admin
from tellcity.audit.services import record, snapshot
from tellcity.cities.models import City
from tellcity.core.db import utcnow
from tellcity.core.errors import Conflict, Invalid
from tellcity.core.permissions import Actor
from tellcity.extensions import db

#: What a key may be used for: posting Open311 requests, reading the statistics.
SCOPES = ("open311", "stats")
PREFIX_BYTES = 6
SECRET_BYTES = 32
NAME_MAX = 120
RATE_LIMIT_MAX = 100  # the column's length
#: Compared with when no key has the prefix given, so that a wrong prefix costs the same work.
_NO_KEY_HASH = hashlib.sha256(b"no such key").hexdigest()


def hash_key(key: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_api_key(
    name: str,
    *,
    city: City | None = None,
    scopes: Iterable[str] = ("open311",),
    rate_limit: str | None = None,
    actor: Actor,
) -> tuple[ApiKey, str]:
    """Add a key for the client `name`, limited to `city` (None: every city) and `scopes`,
    with its own budget of submissions (`rate_limit`; None: the setting's). Returns the row and
    the key itself, which the caller shows once: only its prefix and hash are kept.

    Raises NotAllowed (a key for every city is for an administrator of every city); Invalid
    for an empty or long name, no scope or an unknown one, a budget that does not read.
    """
    require_admin(actor, city.id if city is not None else None)
    rate_limit = _rate_limit(rate_limit)
    name = " ".join((name or "").split())
    if not name:
        raise Invalid(_("Give a name."), field="name")
    if len(name) > NAME_MAX:
        raise Invalid(f"a key needs a name of 1 to {NAME_MAX} characters", field="name")
    scopes = list(dict.fromkeys(scopes))
    if not scopes or set(scopes) - set(SCOPES):
        raise Invalid(_("Choose at least one scope."), field="scopes")
    prefix = _unused_prefix()
    key = f"{prefix}.{secrets.token_urlsafe(SECRET_BYTES)}"
    api_key = ApiKey(
        name=name,
        prefix=prefix,
        key_hash=hash_key(key),
        city_id=city.id if city is not None else None,
        scopes=scopes,
        rate_limit=rate_limit,
        created_by_id=actor.user.id if actor.user is not None else None,
    )
    db.session.add(api_key)
    record(actor, "create", api_key)
    return api_key, key


def _unused_prefix() -> str:
    """A random prefix no key has yet (48 bits: a clash is all but impossible, but checked)."""
    while True:
        prefix = secrets.token_hex(PREFIX_BYTES)
        if db.session.scalar(sa.select(ApiKey.id).where(ApiKey.prefix == prefix)) is None:
            return prefix


def authenticate(key: str | None) -> ApiKey | None:
    """The live key whose secret is `key`, its last use recorded; None for anything else (no
    key, malformed, unknown, wrong secret, revoked). The hashes are compared in constant time.
    """
    prefix, dot, _secret = (key or "").partition(".")
    if not dot or len(prefix) != 2 * PREFIX_BYTES or len(key) > 200:
        return None
    api_key = db.session.scalar(sa.select(ApiKey).where(ApiKey.prefix == prefix))
    expected = api_key.key_hash if api_key is not None else _NO_KEY_HASH
    if not hmac.compare_digest(hash_key(key), expected) or api_key is None:
        return None
    if api_key.revoked_at is not None:
        return None
    api_key.last_used_at = utcnow()
    db.session.flush()
    return api_key


def may_use(api_key: ApiKey, city: City, scope: str = "open311") -> bool:
    """Whether the key may act on `city` within `scope`."""
    in_city = api_key.city_id is None or api_key.city_id == city.id
    return in_city and scope in (api_key.scopes or [])


def set_rate_limit(api_key: ApiKey, rate_limit: str | None, *, actor: Actor) -> None:
    """Give the key a budget of its own (None or "": the setting's, RATELIMIT_API_KEY),
    effective at its next request. Raises NotAllowed; Invalid for a budget that does not
    read."""
    require_admin(actor, api_key.city_id)
    before = snapshot(api_key)
    api_key.rate_limit = _rate_limit(rate_limit)
    record(actor, "update", api_key, before)


def _rate_limit(text: str | None) -> str | None:
    """A budget in the rate limiter's notation ("300 per minute;20000 per day"), normalised,
    or None; raises Invalid for anything else."""
    text = " ".join((text or "").split()).strip(" ;")
    if not text:
        return None
    try:
        limits = parse_many(text)
    except ValueError:
        limits = []
    if not limits or len(text) > RATE_LIMIT_MAX:
        raise Invalid(
            _('Write a budget as "300 per minute", or several: "300 per minute;20000 per day".'),
            field="rate_limit",
        )
    return text


def presented_key(*, form_parameter: bool = False) -> str | None:
    """The API key the request carries: in the Authorization header ("Bearer <key>") or the
    X-Api-Key header; with `form_parameter`, also in the `api_key` parameter of the query
    string or form (Open311's way). None without one."""
    header = request.headers.get("Authorization", "")
    scheme, _space, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    key = request.headers.get("X-Api-Key", "").strip()
    if not key and form_parameter:
        key = request.args.get("api_key", "").strip()
        if not key and request.method == "POST" and request.mimetype in FORM_TYPES:
            key = request.form.get("api_key", "").strip()
    return key or None


#: The bodies a form parameter is read from: never a JSON body, which would be parsed as a
#: form for nothing (and a large one refused with the form parser's message, not the API's).
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def revoke_api_key(api_key: ApiKey, *, actor: Actor) -> None:
    """Refuse the key from now on (it stays listed, with when it was revoked).

    Raises NotAllowed; Conflict if it already is revoked.
    """
    require_admin(actor, api_key.city_id)
    if api_key.revoked_at is not None:
        raise Conflict(_("This key is already revoked."))
    before = snapshot(api_key)
    api_key.revoked_at = utcnow()
    record(actor, "update", api_key, before)
