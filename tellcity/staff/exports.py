"""The queue as a spreadsheet: its columns, and who may have the reporters' contact details in
it (tellcity.core.permissions.can_export_contacts)."""

from collections.abc import Iterator

from flask_babel import gettext as _

from tellcity.categories import questions
from tellcity.core.csv import csv_chunks
from tellcity.core.errors import NotAllowed
from tellcity.core.permissions import Actor, can_export_contacts
from tellcity.extensions import db
from tellcity.staff import queries

COLUMNS = (
    "reference",
    "created_at",
    "status",
    "kind",
    "category",
    "department",
    "zone",
    "priority",
    "assignee",
    "address",
    "lat",
    "lon",
    "due_at",
    "acknowledged_at",
    "resolved_at",
    "closed_at",
    "support_count",
    "source",
    "description",
    "answers",
)
PERSONAL_COLUMNS = ("reporter_name", "reporter_email", "reporter_phone")


def tickets_csv(
    actor: Actor, filters: queries.QueueFilters, *, personal: bool = False
) -> Iterator[str]:
    """The tickets `actor` sees under `filters` as CSV text in chunks, to stream; with
    `personal`, the reporters' contact details too. Raises NotAllowed, before anything is
    read, when `personal` is asked by someone who may not export contact details."""
    if personal and not can_export_contacts(actor):
        raise NotAllowed(_("Only managers and administrators export contact details."))
    columns = COLUMNS + (PERSONAL_COLUMNS if personal else ())
    query = queries.export_query(actor.user, filters, columns)
    return csv_chunks(columns, _rows(db.engine, query, columns.index("answers")))


def _rows(engine, query, answers_at: int):
    """Read through a connection of its own with a server-side cursor, so a million rows
    never sit in memory, and the request's session may end while the answer streams. The
    answers to the category's questions are written as one cell (questions.as_text)."""
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=1000).execute(query)
        for row in result:
            row = list(row)
            row[answers_at] = questions.as_text(row[answers_at])
            yield row
