"""Slugs: the lowercase ASCII names in addresses and codes ("SW-Dirty Alley" → "sw-dirty-alley"),
for the rows an administrator or an import creates."""

import re
import unicodedata

import sqlalchemy as sa

from tellcity.extensions import db


def slugify(text: str, max_length: int = 64) -> str:
    """A lowercase ASCII slug of `text` ("SW-Dirty Alley" → "sw-dirty-alley")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "unnamed"


def unique_slug(model, city_id: int, name: str) -> str:
    """A slug of `name` that no other `model` row of the city has ("name", "name-2"...)."""
    base = slugify(name, max_length=56)
    taken = set(db.session.scalars(sa.select(model.slug).where(model.city_id == city_id)))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug
