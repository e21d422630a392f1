"""Recording configuration changes."""

from collections.abc import Iterable
from datetime import date, datetime

import sqlalchemy as sa

from tellcity.audit.models import AuditEntry
from tellcity.core.permissions import Actor
from tellcity.extensions import db

#: Columns never copied into the log.
SECRET_COLUMNS = {
    "password_hash",
    "key_hash",
    "totp_secret",
    "recovery_code_hashes",
    "webhook_secret",
    "open311_api_key",
}


def snapshot(row, columns: Iterable[str] | None = None) -> dict:
    """The row's column values (or those of `columns`) as JSON-ready data, secrets left out."""
    values = {}
    for column in sa.inspect(type(row)).columns:
        if column.key in SECRET_COLUMNS or (columns is not None and column.key not in columns):
            continue
        value = getattr(row, column.key)
        values[column.key] = value.isoformat() if isinstance(value, datetime | date) else value
    return values


def record(
    actor: Actor,
    action: str,
    row,
    before: dict | None = None,
    city_id: int | None = None,
    columns: Iterable[str] | None = None,
) -> AuditEntry:
    """Log `action` ("create", "update", "delete") on `row` by `actor`; flush first so a new
    row has its id. `before` is the snapshot taken before an update or a delete; `columns`
    limits the snapshot after to those (a city's setting, not its whole boundary)."""
    db.session.flush()
    entry = AuditEntry(
        city_id=city_id if city_id is not None else getattr(row, "city_id", None),
        action=action,
        entity=row.__tablename__,
        entity_id=getattr(row, "id", None),
        before=before,
        after=None if action == "delete" else snapshot(row, columns),
        **actor.event_fields,
    )
    db.session.add(entry)
    return entry


def delete_recorded(row, actor: Actor) -> None:
    """Delete `row` and record it."""
    before = snapshot(row)
    db.session.delete(row)
    record(actor, "delete", row, before)
