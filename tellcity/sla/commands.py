"""`tellcity escalate`: escalate overdue tickets now (the worker also does it on a schedule)."""

import click
from flask.cli import with_appcontext

from tellcity.extensions import db
from tellcity.sla.services import escalate_overdue


def run_escalation() -> int:
    """Escalate every overdue ticket not escalated yet, committing batch by batch."""
    total = 0
    while count := escalate_overdue():
        db.session.commit()
        total += count
    db.session.commit()
    return total


@click.command("escalate")
@with_appcontext
def escalate_command():
    """Escalate overdue tickets to their department's managers (once per ticket)."""
    click.echo(f"Escalated {run_escalation()} overdue ticket(s).")
