"""`tellcity escalate`: escalate overdue tickets now (the worker also does it on a schedule)."""

import click
from flask.cli import with_appcontext

from tellcity.core.transaction import unit_of_work
from tellcity.sla.services import escalate_overdue


def run_escalation() -> int:
    """Escalate every overdue ticket not escalated yet, committing batch by batch."""
    total = 0
    while True:
        with unit_of_work():
            count = escalate_overdue()
        if not count:
            return total
        total += count


@click.command("escalate")
@with_appcontext
def escalate_command():
    """Escalate overdue tickets to their department's managers (once per ticket)."""
    click.echo(f"Escalated {run_escalation()} overdue ticket(s).")
