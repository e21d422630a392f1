"""How many reports a second two app servers take through POST /api/v1/reports, against one,
sharing one PostgreSQL database and one Redis (the rate limits' counters).

    python bench/multi.py --database postgresql://postgres@127.0.0.1:5432/tellcity_bench
                          [--duration 30] [--rounds 4] [--concurrency 16] [--workers 1]
                          [--redis redis://127.0.0.1:6379] [--mail-workers 2]

Two servers (gunicorn, --workers sync workers each, an instance folder each, one secret key)
run side by side on 127.0.0.1 against the same database, which must exist (the schema and the
demo city are added when missing; the reports submitted stay in it). Each round loads server A
alone with --concurrency clients ("one server"), and A and B with half the clients each ("two
servers"), in turns (the order reversed every other round), so both meet this shared
machine's drift alike (see bench/submit.py). The payloads are bench/submit.py's. The rate
limits count in Redis, as with several machines, under a key prefix of the run's own and a
limit set out of the way; no outbox worker runs unless --mail-workers says so.

--mail-workers N also runs N `tellcity worker` processes throughout, delivering to an SMTP
server in this process (aiosmtpd, from the `test` extra): the longer run of the layout the
two-server test proves (tests/reliability/test_two_servers.py). After the rounds the script
waits for the outbox to drain and checks that every message sent went out exactly once (by its
Message-ID). The workers take CPU from the servers: compare ratios of runs with the same N.

The ratio printed is two servers' requests/s over one server's. On this 2-core machine, with
one worker a server, "one server" leaves a core to PostgreSQL and the client; "two servers"
take both, and contend with them: the ratio says how much of a second core's worth of app
servers the database and the rest let through, not how far more machines would go. With
machines of their own, each app server brings its CPU, and what is shared is PostgreSQL (one
transaction a submission, a few ms of its time) and Redis (two round trips).
"""

import argparse
import concurrent.futures
import contextlib
import email
import email.policy
import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from bare_app import engine_for
from harness import Gunicorn, Load, combined, free_port, run_load
from seed import prepare_database
from submit import HangingServer, Payloads

from tellcity import create_app
from tellcity.extensions import db


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", required=True, help="a PostgreSQL URL (it must exist)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379", help="the rate limits' store")
    parser.add_argument("--duration", type=float, default=30, help="seconds measured per setup")
    parser.add_argument("--rounds", type=int, default=4, help="turns each setup takes")
    parser.add_argument("--concurrency", type=int, default=16, help="clients at once, in all")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers a server")
    parser.add_argument("--seed", type=int, default=311, help="random seed of the payloads")
    parser.add_argument(
        "--mail-workers", type=int, default=0, help="`tellcity worker` processes delivering"
    )
    args = parser.parse_args()
    if not args.database.startswith(("postgresql", "postgres:")):
        parser.error("--database must name a PostgreSQL database: SQLite is one machine's file")
    with tempfile.TemporaryDirectory(prefix="tellcity-multi-") as tmp:
        run(args, Path(tmp))


def run(args, tmp: Path) -> None:
    app = create_app(
        {"INSTANCE_PATH": tmp / "setup", "DATABASE_URL": args.database, "SECRET_KEY": "bench"}
    )
    with app.app_context():
        city = prepare_database()
        payloads = Payloads(city, np.random.default_rng(args.seed))
        db.session.remove()
        db.engine.dispose()
    with contextlib.ExitStack() as stack:
        geocoder = stack.enter_context(HangingServer())  # never asked: every report has an address
        env = {
            "TELLCITY_DATABASE_URL": args.database,
            "TELLCITY_SECRET_KEY": f"bench-{uuid.uuid4().hex}",
            "TELLCITY_RATELIMIT_STORAGE_URI": args.redis,
            "TELLCITY_RATELIMIT_KEY_PREFIX": f"tellcity-bench-{uuid.uuid4().hex[:8]}",
            "TELLCITY_RATELIMIT_SUBMIT": "1000000 per minute",
            "TELLCITY_GEOCODER_OPTIONS": json.dumps(
                {"domain": f"127.0.0.1:{geocoder.port}", "scheme": "http"}
            ),
        }
        servers = [
            stack.enter_context(
                Gunicorn(
                    "tellcity:create_app()",
                    {**env, "TELLCITY_INSTANCE_PATH": str(tmp / name)},
                    workers=args.workers,
                    ready_path="/healthz",
                )
            )
            for name in ("a", "b")
        ]
        mail = stack.enter_context(MailWorkers(env, tmp, args.mail_workers))
        rounds = load_in_turns([server.url for server in servers], payloads, args)
        print_results(args, rounds)
        if args.mail_workers:
            mail.check(args.database)


class MailWorkers:
    """`count` workers delivering to an SMTP server (aiosmtpd) kept in this process, which
    records every Message-ID it receives; stopped (SIGTERM) on exit."""

    def __init__(self, env: dict, tmp: Path, count: int):
        self.env, self.tmp, self.count = env, tmp, count
        self.received: list[str] = []
        self.started_at = datetime.now(UTC)
        self.processes: list[subprocess.Popen] = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append(message["Message-ID"])
        return "250 Message accepted"

    def __enter__(self) -> "MailWorkers":
        if not self.count:
            return self
        from aiosmtpd.controller import Controller  # the `test` extra

        port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=port)
        self.controller.start()
        env = {**os.environ, **self.env, "TELLCITY_MAIL_SERVER": "127.0.0.1"}
        env["TELLCITY_MAIL_PORT"] = str(port)
        tellcity = Path(sys.executable).parent / "tellcity"
        for n in range(self.count):
            env["TELLCITY_INSTANCE_PATH"] = str(self.tmp / f"worker-{n}")
            self.processes.append(
                subprocess.Popen(
                    [str(tellcity), "worker", "--interval", "0.2"],
                    env=dict(env),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        return self

    def check(self, url: str, timeout: float = 300) -> None:
        """Wait for the outbox to drain; print how long it took and whether each message sent
        since the start went out exactly once."""
        engine = engine_for(url)
        waiting = sa.text(
            "SELECT count(*) FROM outbox_messages WHERE status IN ('pending', 'sending')"
        )
        began = time.monotonic()
        with engine.connect() as connection:
            while connection.execute(waiting).scalar() and time.monotonic() - began < timeout:
                connection.rollback()
                time.sleep(0.5)
            connection.rollback()
            left = connection.execute(waiting).scalar()
            sent = connection.execute(
                sa.text("SELECT message_id FROM outbox_messages WHERE sent_at >= :start"),
                {"start": self.started_at},
            ).scalars()
            expected = {f"<{message_id}@tellcity>" for message_id in sent}
        engine.dispose()
        repeats = len(self.received) - len(set(self.received))
        exact = not repeats and expected <= set(self.received)
        print(
            f"outbox: {len(expected):,} messages sent by {self.count} workers since the start, "
            f"{left:,} left after {time.monotonic() - began:.0f} s of draining; "
            f"{len(self.received):,} received, {repeats} repeats; each exactly once: "
            f"{'yes' if exact else 'NO'}"
        )

    def __exit__(self, *exc) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.processes:
            self.controller.stop()


def load_in_turns(urls: list[str], payloads: Payloads, args) -> list[dict[str, Load]]:
    """Warm both servers up, then load one server, and both, in turns."""
    numbers = itertools.count()  # every request of the run its own number (and key)

    def make_request(_n: int):
        return payloads.request(next(numbers))

    def load(label: str, targets: list[str], seconds: float, warmup: float = 0.0) -> Load:
        clients = max(1, args.concurrency // len(targets))
        with concurrent.futures.ThreadPoolExecutor(len(targets)) as pool:
            loads = list(
                pool.map(
                    lambda url: run_load(
                        label,
                        url,
                        make_request,
                        concurrency=clients,
                        duration=seconds,
                        warmup=warmup,
                    ),
                    targets,
                )
            )
        # Side by side over the same seconds: the requests add up, the time does not.
        total = combined(label, loads)
        total.seconds = max(load.seconds for load in loads)
        return total

    setups = {"one": ("one server", urls[:1]), "two": ("two servers", urls)}
    load("warm-up", urls, 0, warmup=3)
    seconds = args.duration / args.rounds
    rounds = []
    for n in range(args.rounds):
        order = ["one", "two"] if n % 2 == 0 else ["two", "one"]
        rounds.append({name: load(*setups[name], seconds) for name in order})
    return rounds


def print_results(args, rounds: list[dict[str, Load]]) -> None:
    shown = sa.make_url(args.database).render_as_string(hide_password=True)
    print(
        f"Submissions on {shown}, rate limits in Redis: gunicorn -w {args.workers} (sync) a "
        f"server, {args.concurrency} clients in all, {args.rounds} rounds of "
        f"{args.duration / args.rounds:g} s per setup, in turns, on {os.cpu_count()} CPUs"
    )
    ratios = []
    for n, loads in enumerate(rounds, 1):
        one, two = loads["one"], loads["two"]
        ratios.append(two.rate / one.rate if one.rate else float("nan"))
        print(
            f"  round {n}: one server {one.rate:,.0f} req/s, two {two.rate:,.0f}: {ratios[-1]:.2f}"
        )
    print(f"{'':<14}{'requests':>9}{'errors':>8}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}")
    totals = {
        name: combined(rounds[0][name].label, [r[name] for r in rounds]) for name in rounds[0]
    }
    for load in (totals["one"], totals["two"]):
        print(
            f"{load.label:<14}{load.requests:>9,}{load.errors:>8,}{load.rate:>8,.0f}"
            f"{load.percentile(50):>8.1f}{load.percentile(95):>8.1f}"
        )
        if load.errors:
            print(f"  statuses: {dict(load.statuses)}")
    ratio = totals["two"].rate / totals["one"].rate if totals["one"].rate else float("nan")
    print(
        f"ratio: two servers do {ratio:.2f} times one server's requests/s "
        f"(rounds: median {statistics.median(ratios):.2f}, {min(ratios):.2f} to {max(ratios):.2f})"
    )


if __name__ == "__main__":
    sys.exit(main())
