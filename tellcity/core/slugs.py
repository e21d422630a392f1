"""Slugs: the lowercase ASCII names in addresses and codes ("SW-Dirty Alley" → "sw-dirty-alley"),
for the rows an administrator or an import creates."""

import re
import unicodedata
from collections.abc import Container

import sqlalchemy as sa

from tellcity.extensions import db


def slugify(text: str, max_length: int = 64) -> str:
    """A lowercase ASCII slug of `text` ("SW-Dirty Alley" → "sw-dirty-alley")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "unnamed"


def unique_slug(model, city_id: int, name: str) -> str:
    """A slug of `name` that no other `model` row of the city has ("name", "name-2"...)."""
    taken = set(db.session.scalars(sa.select(model.slug).where(model.city_id == city_id)))
    return free_slug(name, taken)


def free_slug(name: str, taken: Container[str]) -> str:
    """A slug of `name` that is not in `taken`: its own slug, else the first free of
    "name-2", "name-3"... The one rule for the slug or code of a new row that must be unique
    (an import names "Plumbing" plumbing and "PLUMBING" plumbing-2)."""
    base = slugify(name, max_length=56)
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug
