"""Commands: `tellcity worker`, `tellcity outbox-status`, `tellcity outbox-retry ID`."""

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator

import click
from flask import current_app
from flask.cli import with_appcontext
from prometheus_client import start_http_server

from tellcity.core.errors import TellCityError
from tellcity.core.transaction import unit_of_work
from tellcity.notify.queries import dead_messages, status_counts
from tellcity.notify.services import retry_dead
from tellcity.notify.worker import ROLES, run_worker


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due, run each job once, and exit.")
@click.option(
    "--interval",
    default=5.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds to wait when nothing is left to deliver.",
)
@click.option(
    "--batch",
    default=50,
    show_default=True,
    type=click.IntRange(min=1),
    help="Messages claimed at a time.",
)
@click.option(
    "--jobs",
    "roles",
    default=",".join(ROLES),
    show_default=True,
    callback=lambda _ctx, _param, value: _roles(value),
    help="What this worker does, comma-separated: a worker per role, or one for all.",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(min=1, max=65535),
    help="Serve the worker's Prometheus metrics on this port (none by default).",
)
@click.option(
    "--metrics-address",
    default="127.0.0.1",
    show_default=True,
    help="The address the metrics port listens on.",
)
@with_appcontext
def worker_command(
    once: bool,
    interval: float,
    batch: int,
    roles: tuple[str, ...],
    metrics_port: int | None,
    metrics_address: str,
):
    """Deliver queued notifications (emails, webhooks) with retries, and run the periodic jobs,
    until stopped by SIGTERM or Ctrl+C. Any number of workers can run against PostgreSQL."""
    _log_to_stderr()
    if metrics_port:
        start_http_server(metrics_port, addr=metrics_address)
    app = current_app._get_current_object()
    stop = threading.Event()
    with _stop_on_signals(stop):
        counts = run_worker(app, interval=interval, batch=batch, once=once, stop=stop, roles=roles)
    click.echo(f"Outbox worker stopped: {counts}.")


@click.command("outbox-status")
@with_appcontext
def outbox_status_command():
    """How many messages are pending, being sent, sent and dead; and the dead ones."""
    counts = status_counts()
    click.echo(", ".join(f"{status}: {count}" for status, count in counts.items()))
    for message in dead_messages():
        click.echo(
            f"dead {message.id}: {message.channel} to {message.recipient}, "
            f"{message.attempts} attempts, last error: {message.last_error}"
        )


@click.command("outbox-retry")
@click.argument("message_id", type=int)
@with_appcontext
def outbox_retry_command(message_id: int):
    """Put the dead outbox message MESSAGE_ID back in the queue, with a fresh set of attempts."""
    try:
        with unit_of_work():
            message = retry_dead(message_id)
    except TellCityError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"Outbox message {message.id} to {message.recipient} is queued again.")


def _roles(value: str) -> tuple[str, ...]:
    roles = tuple(dict.fromkeys(role.strip() for role in value.split(",") if role.strip()))
    unknown = [role for role in roles if role not in ROLES]
    if unknown or not roles:
        raise click.BadParameter(
            f"{', '.join(unknown) or 'nothing'} is not a job; the jobs are {', '.join(ROLES)}"
        )
    return roles


def _log_to_stderr() -> None:
    """Show the worker's log (what it sent, what failed), each line once. The worker's
    loggers are children of the app's ("tellcity"), to which Flask gives its handler (unless
    logging is set up already) when the app's logger is first asked for: a handler of their
    own as well would print every line twice."""
    current_app.logger  # noqa: B018 (Flask sets the app's logger up on first access)
    logging.getLogger("tellcity.notify").setLevel(logging.INFO)


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Set `stop` on SIGTERM and SIGINT (the worker finishes the message in hand, hands the
    rest of its batch back and exits), then restore the previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = (signal.SIGTERM, signal.SIGINT)
    previous = {number: signal.getsignal(number) for number in signals}
    for number in signals:
        signal.signal(number, lambda *_: stop.set())
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
