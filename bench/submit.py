"""How many reports a second TellCity takes through POST /api/v1/reports, against a bare
Flask app inserting one row into the same database.

    python bench/submit.py [--database URL] [--duration 40] [--rounds 4] [--concurrency 24]
                           [--no-address]

Both apps run under gunicorn as in production (`gunicorn -w 2`, sync workers) on 127.0.0.1, side
by side, each warmed up for 3 seconds; then --rounds rounds load them in turn, --duration
seconds in all for each app: TellCity then the baseline in odd rounds, the baseline then
TellCity in even ones. This machine's speed drifts by a third from one minute to the next
(it is shared): taking turns puts the two apps under the same drift, where running one after
the other measured the drift as much as the apps. The ratio printed is of all the rounds'
requests; each round's own ratio is printed too, to show the spread.

--concurrency clients (asyncio, aiohttp) post JSON reports: positions drawn inside the city
limits, categories weighted like a city's, an address (so no geocoder is called), a
description, the answers to the category's questions, an Idempotency-Key never used before.
TellCity checks and routes each one, looks its key up (a retried submission returns the first
report), numbers it, computes its SLA deadlines, writes its first event and the department's
notification to the outbox, in one transaction. The baseline (bench/bare_app.py) parses the
same JSON and inserts it as one row into a table as wide as `reports` with no index but its
key, committed.

--no-address adds a third server: TellCity again, sent the same reports with a position but no
address, while the geocoder it is configured with (a local server that accepts connections and
never answers) hangs. A position without an address is filed at once and the worker fills the
address in later (it is not running here): this case should go as fast as the one with an
address, and its ratio to it is printed (goal >= 0.9). Both TellCity servers are given the
hanging geocoder, so the only difference is the address.

--database names the database to run on: a SQLite file (`sqlite:////tmp/x.sqlite3`) or a
PostgreSQL database (`postgresql://postgres@127.0.0.1:5432/tellcity_bench`, which must
exist); the schema and the demo city are added when missing, and the reports submitted stay in
it. Without --database, a fresh SQLite file in a temporary folder. The rate limiter is set out
of the way (TELLCITY_RATELIMIT_SUBMIT); each app gets a fresh instance folder.
"""

import argparse
import contextlib
import itertools
import json
import socket
import statistics
import sys
import tempfile
import uuid
from pathlib import Path

import numpy as np
import shapely
import sqlalchemy as sa
from bare_app import create_table, drop_table, engine_for
from harness import Gunicorn, Load, combined, run_load
from seed import CATEGORY_WEIGHTS, prepare_database
from shapely.geometry import shape

from tellcity import create_app
from tellcity.categories.models import Category
from tellcity.extensions import db
from tellcity.notify.models import OutboxMessage
from tellcity.reports.models import Report

TARGET = 0.5  # of the bare insert's requests/s
#: A submission without an address, against one with: no wait on the (hanging) geocoder.
NO_ADDRESS_TARGET = 0.9
STREETS = ["rue du Général Leclerc", "avenue Victor Cresson", "boulevard Gallieni", "rue Minard"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", help="SQLAlchemy URL (default: a fresh SQLite file)")
    parser.add_argument(
        "--duration", type=float, default=40, help="seconds measured per app, all rounds"
    )
    parser.add_argument("--rounds", type=int, default=4, help="turns each app takes")
    parser.add_argument("--concurrency", type=int, default=24, help="clients at once")
    parser.add_argument("--seed", type=int, default=311, help="random seed of the payloads")
    parser.add_argument(
        "--no-address",
        action="store_true",
        help="also submit positions without an address while the geocoder hangs",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tellcity-submit-") as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'submit.sqlite3'}"
        run(url, Path(tmp), args)


def run(url: str, tmp: Path, args) -> None:
    app = create_app({"INSTANCE_PATH": tmp / "setup", "DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context():
        city = prepare_database()
        payloads = Payloads(city, np.random.default_rng(args.seed))
        before = counts()
        db.session.remove()
    engine = engine_for(url)
    create_table(engine)
    try:
        rounds = serve_both(url, tmp, payloads, args)
        with app.app_context():
            added = {name: n - before[name] for name, n in counts().items()}
            db.session.remove()
    finally:
        drop_table(engine)
        engine.dispose()
    print_results(url, args, rounds, added)


def serve_both(url: str, tmp: Path, payloads: "Payloads", args) -> list[dict[str, Load]]:
    """The Load of each server ("tellcity", "bare", and with --no-address "no address") in
    each round, every server up throughout."""
    with contextlib.ExitStack() as stack:
        geocoder = stack.enter_context(HangingServer())
        tellcity_env = {
            "TELLCITY_DATABASE_URL": url,
            "TELLCITY_SECRET_KEY": "bench",
            "TELLCITY_RATELIMIT_SUBMIT": "1000000 per minute",
            "TELLCITY_GEOCODER_OPTIONS": json.dumps(
                {"domain": f"127.0.0.1:{geocoder.port}", "scheme": "http"}
            ),
        }
        numbers = itertools.count()  # every request of the run its own number (and key)
        servers = {}

        def serve(name: str, label: str, app: str, env: dict, make_request, **options) -> None:
            server = stack.enter_context(Gunicorn(app, env, **options))
            servers[name] = (label, server.url, make_request)

        serve(
            "tellcity",
            "TellCity POST /api/v1/reports",
            "tellcity:create_app()",
            {**tellcity_env, "TELLCITY_INSTANCE_PATH": str(tmp / "tellcity")},
            lambda _n: payloads.request(next(numbers)),
            ready_path="/healthz",
        )
        if args.no_address:
            serve(
                "no address",
                "TellCity, no address",
                "tellcity:create_app()",
                {**tellcity_env, "TELLCITY_INSTANCE_PATH": str(tmp / "no-address")},
                lambda _n: payloads.request(next(numbers), address=False),
                ready_path="/healthz",
            )
        serve(
            "bare",
            "bare Flask INSERT (baseline)",
            "bare_app:create_app()",
            {"TELLCITY_DATABASE_URL": url},
            lambda _n: payloads.bare_request(next(numbers)),
        )
        return load_in_turns(servers, args)


def load_in_turns(servers: dict, args) -> list[dict[str, Load]]:
    """Warm each server up, then load them in turn, each round in another order (rotated,
    and reversed every other round), so that each meets the machine's drift alike."""
    seconds = args.duration / args.rounds

    def load(name: str, duration: float, warmup: float = 0.0) -> Load:
        label, base_url, make_request = servers[name]
        return run_load(
            label,
            base_url,
            make_request,
            concurrency=args.concurrency,
            duration=duration,
            warmup=warmup,
        )

    for name in servers:
        load(name, 0, warmup=3)
    rounds = []
    names = list(servers)
    for n in range(args.rounds):
        shift = n % len(names)
        order = names[shift:] + names[:shift]
        if n % 2:
            order.reverse()
        rounds.append({name: load(name, seconds) for name in order})
    return rounds


def counts() -> dict[str, int]:
    return {
        "reports": db.session.scalar(sa.select(sa.func.count(Report.id))),
        "outbox messages": db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))),
    }


class Payloads:
    """JSON bodies of submissions: a point of a pool drawn inside the city limits, a category
    drawn by the city's weights (with the answers its questions require), a text."""

    def __init__(self, city, rng: np.random.Generator, size: int = 5000):
        boundary = shape(city.boundary)
        min_lon, min_lat, max_lon, max_lat = boundary.bounds
        lons = rng.uniform(min_lon, max_lon, size * 3)
        lats = rng.uniform(min_lat, max_lat, size * 3)
        inside = shapely.contains_xy(boundary, lons, lats)
        self.points = list(
            zip(lats[inside][:size].round(6), lons[inside][:size].round(6), strict=True)
        )
        categories = db.session.scalars(
            sa.select(Category).where(Category.city_id == city.id, Category.is_active)
        ).all()
        weights = np.array([CATEGORY_WEIGHTS.get(c.code, 1.0) for c in categories])
        picks = rng.choice(len(categories), size, p=weights / weights.sum())
        self.categories = [_category_fields(categories[i]) for i in picks]
        self.run = uuid.uuid4().hex[:8]

    def body(self, n: int, address: bool = True) -> dict:
        lat, lon = self.points[n % len(self.points)]
        fields = self.categories[n % len(self.categories)]
        body = {
            **fields,
            "lat": float(lat),
            "lon": float(lon),
            "address": f"{1 + n % 120} {STREETS[n % len(STREETS)]}",
            "description": f"Signalement de test n° {n} : à vérifier sur place, merci.",
            "email": f"bench{n % 1000}@example.org",
        }
        if not address:
            del body["address"]
        return body

    def request(self, n: int, address: bool = True):
        headers = {"Idempotency-Key": f"bench-{self.run}-{n}"}
        return "POST", "/api/v1/reports", {"json": self.body(n, address), "headers": headers}

    def bare_request(self, n: int):
        return "POST", "/reports", {"json": self.body(n)}


def _category_fields(category: Category) -> dict:
    fields = {"category": category.code, "kind": category.kind}
    answers = {}
    for attribute in category.attributes or []:
        if attribute.get("datatype") == "singlevaluelist":
            answers[attribute["code"]] = attribute["values"][0]["key"]
        elif attribute.get("required"):
            answers[attribute["code"]] = "bench"
    if answers:
        fields["attributes"] = answers
    return fields


def print_results(url: str, args, rounds: list[dict[str, Load]], added: dict) -> None:
    shown = sa.make_url(url).render_as_string(hide_password=True)
    print(
        f"Submissions on {shown}: gunicorn -w 2 (sync), {args.concurrency} clients, "
        f"{args.rounds} rounds of {args.duration / args.rounds:g} s per app, in turns"
    )
    ratios = [_ratio(r["tellcity"], r["bare"]) for r in rounds]
    for n, (loads, ratio) in enumerate(zip(rounds, ratios, strict=True), 1):
        t, b = loads["tellcity"], loads["bare"]
        line = f"  round {n}: TellCity {t.rate:,.0f} req/s, baseline {b.rate:,.0f}: {ratio:.2f}"
        if "no address" in loads:
            line += f"; no address {loads['no address'].rate:,.0f} req/s"
        print(line)
    totals = {
        name: combined(load.label, [r[name] for r in rounds]) for name, load in rounds[0].items()
    }
    tellcity, bare = totals["tellcity"], totals["bare"]
    print(f"{'':<32}{'requests':>9}{'errors':>8}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}", end="")
    print(f"{'p99 ms':>8}{'client CPU s':>14}")
    for load in (tellcity, totals.get("no address"), bare):
        if load is None:
            continue
        print(
            f"{load.label:<32}{load.requests:>9,}{load.errors:>8,}{load.rate:>8,.0f}"
            f"{load.percentile(50):>8.1f}{load.percentile(95):>8.1f}{load.percentile(99):>8.1f}"
            f"{load.client_cpu:>14.1f}"
        )
    ratio = tellcity.rate / bare.rate if bare.rate else float("nan")
    verdict = "met" if ratio >= TARGET else "NOT met"
    print(f"ratio: TellCity does {ratio:.2f} of the bare insert's requests/s", end="")
    print(
        f" (rounds: median {statistics.median(ratios):.2f}, {min(ratios):.2f} to {max(ratios):.2f})"
    )
    print(f"target >= {TARGET}: {verdict}")
    if "no address" in totals:
        no_address = totals["no address"]
        ratio = _ratio(no_address, tellcity)
        verdict = "met" if ratio >= NO_ADDRESS_TARGET else "NOT met"
        print(
            f"ratio: without an address (geocoder hanging) TellCity does {ratio:.2f} of its "
            f"requests/s with one, p50 {no_address.percentile(50):.1f} ms against "
            f"{tellcity.percentile(50):.1f} ms; target >= {NO_ADDRESS_TARGET}: {verdict}"
        )
        if no_address.errors:
            print(f"no-address statuses: {dict(no_address.statuses)}")
    written = ", ".join(f"{n:,} {name}" for name, n in added.items())
    print(f"TellCity wrote {written} (warm-up included); statuses: {dict(tellcity.statuses)}")
    if bare.errors:
        print(f"baseline statuses: {dict(bare.statuses)}")


def _ratio(load: Load, baseline: Load) -> float:
    return load.rate / baseline.rate if baseline.rate else float("nan")


class HangingServer:
    """A geocoder that never answers: a loopback port that accepts connections (the kernel
    completes the handshake: the backlog is large) and reads nothing; a client waits for its
    own timeout."""

    def __enter__(self) -> "HangingServer":
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(1024)
        self.port = self.socket.getsockname()[1]
        return self

    def __exit__(self, *exc) -> None:
        self.socket.close()


if __name__ == "__main__":
    sys.exit(main())
