"""Driving the administration pages over HTTP, as a browser without JavaScript does."""

import re

import sqlalchemy as sa

from tellcity.audit.models import AuditEntry
from tellcity.extensions import db
from tests.web.helpers import form_tokens, text


def csrf(client) -> str:
    """A CSRF token of the client's session (from a public form any visitor can open)."""
    return form_tokens(client, "/report")["csrf_token"]


def post(client, url: str, data: dict | None = None, **kwargs):
    """POST `data` to `url` with the session's CSRF token."""
    return client.post(url, data={"csrf_token": csrf(client), **(data or {})}, **kwargs)


def flashes(client) -> list[str]:
    """The messages waiting to be shown on the next page."""
    with client.session_transaction() as session:
        return [message for _category, message in session.get("_flashes", [])]


def fresh(model, row_id: int):
    """The row as the database now holds it (requests commit in their own session)."""
    db.session.expire_all()
    return db.session.get(model, row_id)


def audit(entity: str, entity_id: int | None = None, action: str | None = None):
    """The audit entries of `entity` (and row, and action), oldest first."""
    db.session.expire_all()
    query = sa.select(AuditEntry).where(AuditEntry.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == entity_id)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    return db.session.scalars(query.order_by(AuditEntry.id)).all()


def secret_on(response, label: str) -> str:
    """The value shown once beside `label` on the secret page."""
    match = re.search(
        rf"<dt>{re.escape(label)}</dt><dd><code class=\"secret-value\">([^<]+)</code>",
        text(response),
    )
    assert match, text(response)
    return match.group(1)


def zone(city, slug: str):
    """The city's zone `slug` (the demo city has val-de-seine, centre-ville, corentin-celton,
    hauts-d-issy, epinettes)."""
    from tellcity.cities.models import Zone

    return db.session.scalar(sa.select(Zone).where(Zone.city_id == city.id, Zone.slug == slug))
