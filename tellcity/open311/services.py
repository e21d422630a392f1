"""Open311 writes: API keys, and turning a POSTed service request into a Submission for
tellcity.reports.services.submit_report.

API keys for Open311 clients are created with a random secret shown once, stored as a prefix
(to find the row) and a SHA-256 hash (to check the key), checked in constant time.

A key reads `<prefix>.<secret>`: 12 hexadecimal characters that are not secret, a dot, then 43
URL-safe random characters (256 bits). SHA-256 is enough here, unlike for passwords: the
secret is random and long, so there is nothing to guess from its hash.

Every function adds to the session and flushes; the caller commits.
"""

import hashlib
import hmac
import secrets
from collections.abc import Iterable

import sqlalchemy as sa

from tellcity.accounts.models import ApiKey, User
from tellcity.categories.models import Category
from tellcity.cities.models import City
from tellcity.core.db import utcnow
from tellcity.core.errors import Invalid
from tellcity.extensions import db
from tellcity.geo.geocoding import reverse_address, search_address
from tellcity.reports.services import Submission
from tellcity.reports.states import Source

#: What a key may be used for: posting Open311 requests, reading the statistics.
SCOPES = ("open311", "stats")
PREFIX_BYTES = 6
SECRET_BYTES = 32
NAME_MAX = 120
#: Where a request's media_url is kept among the report's attributes (staff only).
MEDIA_URL_KEY = "_media_url"
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
    created_by: User | None = None,
) -> tuple[ApiKey, str]:
    """Add a key for the client `name`, limited to `city` (None: every city) and `scopes`, and
    flush. Returns the row and the key itself, which the caller shows once: only its prefix
    and hash are kept. Raises Invalid for an empty or long name or an unknown scope."""
    name = " ".join((name or "").split())
    if not 1 <= len(name) <= NAME_MAX:
        raise Invalid(f"a key needs a name of 1 to {NAME_MAX} characters", field="name")
    scopes = list(dict.fromkeys(scopes))
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown or not scopes:
        raise Invalid(f"scopes are some of: {', '.join(SCOPES)}", field="scopes")
    prefix = _unused_prefix()
    key = f"{prefix}.{secrets.token_urlsafe(SECRET_BYTES)}"
    api_key = ApiKey(
        name=name,
        prefix=prefix,
        key_hash=hash_key(key),
        city_id=city.id if city else None,
        scopes=scopes,
        created_by_id=created_by.id if created_by else None,
    )
    db.session.add(api_key)
    db.session.flush()
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


def revoke_api_key(api_key: ApiKey) -> ApiKey:
    """Refuse the key from now on (it stays listed, with when it was revoked)."""
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        db.session.flush()
    return api_key


def new_submission(
    city: City, category: Category, data: dict, photos: list, *, locale: str
) -> Submission:
    """A Submission from a loaded POST requests (tellcity.open311.schemas.NewRequestSchema),
    its answers already checked. Raises Invalid when the location cannot be found."""
    lat, lon, address = locate(city, data)
    name = " ".join(filter(None, (data.get("first_name"), data.get("last_name"))))
    answers = dict(data.get("answers") or {})
    if data.get("media_url"):
        # Kept for the staff, never fetched nor shown to the public (we cannot vouch for it).
        answers[MEDIA_URL_KEY] = data["media_url"]
    return Submission(
        category=category,
        lat=lat,
        lon=lon,
        address=address,
        description=data.get("description", ""),
        attributes=answers or None,
        reporter_name=name or None,
        reporter_email=data.get("email"),
        reporter_phone=data.get("phone"),
        photos=photos,
        locale=locale,
        source=Source.OPEN311,
    )


def locate(city: City, data: dict) -> tuple[float, float, str]:
    """Position and address of a request: lat and long as sent (the address sent with them,
    else the geocoder's), or the first place in the city matching address_string. Raises
    Invalid when the address is not found or the geocoder cannot be reached, and for an
    address_id alone: there is no address repository here to look it up in."""
    if "lat" in data:
        address = data.get("address_string") or reverse_address(data["lat"], data["long"])
        return data["lat"], data["long"], address or ""
    if not data.get("address_string"):
        raise Invalid(
            "address_id is not known here: send lat and long, or address_string",
            code="unknown_address_id",
            field="address_id",
        )
    found = search_address(data["address_string"], city, limit=1)
    if not found.available:
        raise Invalid(
            "the address cannot be looked up just now: send lat and long",
            code="geocoder_unavailable",
            field="address_string",
        )
    if not found.places:
        raise Invalid(
            f"no such address in {city.name}", code="address_not_found", field="address_string"
        )
    place = found.places[0]
    return place.lat, place.lon, place.label
