"""Report events: the sentences the system wrote into `text` in English (or in the language of
whoever acted) become codes with parameters, said in each reader's language when read
(tellcity.reports.history). Data only; the schema does not change.

- A report's first event ("created"): "Routed to <department> (<reason>)" goes; the routing
  decision is already in data["routing"].
- A rerouting ("transfer" with data["routing"]): "Rerouted (<reason>)" goes likewise.
- A merge: "Merged with <references>" (or its French) goes; data["merged"] has them.
- A duplicate's status change: "Merged into <reference>, which follows the same problem." and
  "This problem is already followed in <reference>." (or their French) become
  data["message"] "merged_into" / "already_followed" with data["reference"].
- An escalation: "Overdue since <%Y-%m-%d %H:%M> UTC: escalated to <addresses>" becomes
  data {"message": "escalation", "due_at", "contacts", "via": "managers"} (the old escalation
  went to the managers only). A text that does not parse is kept as it is.
- A correction: the field name ("category", "position") moves from `text` to data["field"].

The first two are one UPDATE each; the others read and write their (few) rows by batches of
ids, so a table of millions is never held in memory. Downgrading leaves the rows as they are:
the code before this revision shows such an event without its sentence.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 21:30:00

"""

import re
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BATCH = 1000

events = sa.table(
    "report_events",
    sa.column("id", sa.BigInteger),
    sa.column("type", sa.String),
    sa.column("text", sa.Text),
    sa.column("to_value", sa.String),
    sa.column("data", sa.JSON().with_variant(JSONB(), "postgresql")),
)

REFERENCE = r"(?P<reference>[A-Z0-9]{1,8}-\d{4}-\d{6})"
#: The duplicate notes of the merge and of the bulk action, in English and in French.
DUPLICATE_NOTES = {
    "merged_into": [
        re.compile(rf"Merged into {REFERENCE}, which follows the same problem\."),
        re.compile(rf"Fusionné dans {REFERENCE}, qui suit le même problème\."),
    ],
    "already_followed": [
        re.compile(rf"This problem is already followed in {REFERENCE}\."),
        re.compile(rf"Ce problème est déjà suivi dans {REFERENCE}\."),
    ],
}
ESCALATION = re.compile(
    r"Overdue since (?P<due>\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC: escalated to (?P<to>.*)", re.S
)


def upgrade():
    connection = op.get_bind()
    connection.execute(
        events.update()
        .where(events.c.type == "created", events.c.text.like("Routed to %"))
        .values(text="")
    )
    for field in ("category", "position"):
        connection.execute(
            events.update()
            .where(events.c.type == "edit", events.c.text == field)
            .values(text="", data={"field": field})
        )
    _rewrite(connection, "transfer", ["Rerouted (%"], _rerouting)
    _rewrite(connection, "merge", ["Merged with %", "Fusionné avec %"], _merge)
    _rewrite(
        connection,
        "status_change",
        ["Merged into %", "Fusionné dans %", "This problem is %", "Ce problème est %"],
        _duplicate_note,
    )
    _rewrite(connection, "escalation", ["Overdue since %"], _escalation)


def downgrade():
    pass


def _rewrite(connection, type_: str, patterns: list[str], convert) -> None:
    """Give each event of `type_` whose text starts like one of `patterns` the data
    `convert(text, data)` returns, and an empty text; None from `convert` keeps the row."""
    last = 0
    while True:
        rows = connection.execute(
            sa.select(events.c.id, events.c.text, events.c.data)
            .where(
                events.c.type == type_,
                sa.or_(*(events.c.text.like(pattern) for pattern in patterns)),
                events.c.id > last,
            )
            .order_by(events.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        last = rows[-1].id
        for row in rows:
            data = convert(row.text, dict(row.data or {}))
            if data is not None:
                connection.execute(
                    events.update().where(events.c.id == row.id).values(text="", data=data)
                )


def _rerouting(text: str, data: dict) -> dict | None:
    return data if "routing" in data else None


def _merge(text: str, data: dict) -> dict | None:
    return data if "merged" in data else None


def _duplicate_note(text: str, data: dict) -> dict | None:
    for message, patterns in DUPLICATE_NOTES.items():
        for pattern in patterns:
            if found := pattern.fullmatch(text.strip()):
                return {**data, "message": message, "reference": found["reference"]}
    return None  # words the agent typed


def _escalation(text: str, data: dict) -> dict | None:
    found = ESCALATION.fullmatch(text.strip())
    if found is None:
        return None
    try:
        due = datetime.strptime(found["due"], "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    except ValueError:
        return None
    to = found["to"].strip()
    contacts = [] if to == "no manager" else [name.strip() for name in to.split(",")]
    return {
        **data,
        "message": "escalation",
        "due_at": due.isoformat(),
        "contacts": [name for name in contacts if name],
        "via": "managers",
    }
