"""How fast TellCity's read paths answer at city scale, against a bare indexed select served the
same way; and how much memory a gunicorn worker takes for them.

    python bench/reads.py [--database URL] [--requests 200] [--max-seconds 30] [--only queue]

Run it on a database seeded by bench/seed.py (default: sqlite:////tmp/tellcity-bench.sqlite3;
`python bench/seed.py --database URL` makes one). TellCity runs under gunicorn as in production
(`gunicorn -w 2`, sync workers) on 127.0.0.1, and one client asks each page --requests times
in a row (at most --max-seconds a page), after a few unmeasured requests, so that a figure is
a request's own latency:

- the public map: GET /reports/markers.json?bbox=... for viewports around reported places, a
  phone's at zoom 17 (about 300 x 550 m) and a desktop's at zoom 16 (about 2 x 1.1 km), each
  answering at most 500 markers;
- the staff queue, signed in as a department's agent (--staff; the password is set with
  `User.set_password`, the session cookie comes from POST /account/signin with the form's
  CSRF token), with two filters (--queue-filters): the first page, and page 50 (its keyset
  cursor found by following the "next page" links once);
- a ticket page, GET /staff/tickets/<reference>, for tickets of that agent's department;
- a year of city statistics, GET /api/v1/stats, signed in as the mayor's office
  (--stats-staff): first its cold request alone (the statistics snapshots are emptied before
  gunicorn starts, and no worker warms them), then the requests that find the figures kept
  (STATS_CACHE_SECONDS); and Open311's GET /open311/v2/requests.json with its default
  parameters, when the app has them (a 404 skips them, saying so); and Open311's single
  request (GET /open311/v2/requests/<reference>.json, public reports drawn at random) and
  services.json, whose "x base" is the figure of issue 21's goal (at most 1/0.7 = 1.43).

The baseline is bench/bare_app.py under the same gunicorn: GET /reports/<id> answers `SELECT id
FROM reports WHERE id = ?` from the same database, for random ids. Each line gives p50, p95 and
p99 in milliseconds, the ratio of its p50 to the baseline's, the workers' peak memory so far,
and its target. Last, the peak resident memory (VmHWM) of each TellCity worker after all of it
(a worker gunicorn restarted after its 30 s timeout is reported: its peak is lost).

Then Open311 against bare endpoints in the same run (`--only versus` for these alone; issue
21): TellCity and bench/bare_app.py are both up, and each round loads one then the other (the
order alternating between rounds) with --versus-clients clients for --versus-seconds per line,
for --rounds rounds. A page of 100 requests (`requests.json?page_size=100`: the default
question, `service_code` and `status=open`, a desktop's `bbox`) against the bare `/requests`
reading the same 100 rows by the range of (city_id, created_at) and writing them with
`json.dumps` (goal ≥ 0.5); the same pages in XML against TellCity's JSON (goal ≥ 0.8); one
request and services.json against the bare `SELECT id` (goal ≥ 0.7). Both are asked with
`Accept-Encoding: identity` (the bare app compresses nothing). Each line gives both rates, their
p50, the ratio of all rounds and the rounds' spread; the script checks first that both pages
hold the same requests. TellCity keeps whole answers as configured (tellcity.core
kept_answers); `--kept-bytes 0` makes it answer every request again, to compare.

Then how the answers clients poll travel (`--only light` for these alone): Open311's
requests.json and requests.xml, the API's categories and a desktop viewport's markers, each
asked by 4 clients for --light-seconds: uncompressed (Accept-Encoding: identity), compressed
(br), and by a client holding the current answer (If-None-Match with its ETag: a 304). Each
line gives the bytes of the body, requests/s, p50 and the rate against the uncompressed one.
"""

import argparse
import html
import json
import re
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import sqlalchemy as sa
from harness import Gunicorn, Load, combined, run_load, with_session
from seed import DEFAULT_DATABASE

from tellcity import create_app
from tellcity.accounts.models import User
from tellcity.extensions import db
from tellcity.reports.models import Report

PASSWORD = "bench-reads-password"
#: Viewports (width, height) in degrees at the city's latitude: a phone at zoom 17 (400 x 700
#: pixels of 0.79 m) and a desktop at zoom 16 (1280 x 700 pixels of 1.57 m).
VIEWPORTS = {"phone z17": (0.0043, 0.0050), "desktop z16": (0.0275, 0.0099)}
TARGET_MEMORY_MB = 150
QUEUE_PAGES = 50
#: Unmeasured requests before each page's measured ones.
WARMUP_REQUESTS = 5


@dataclass
class Page:
    """A read to measure: its name, how to make its n-th request, its target p95 (ms)."""

    name: str
    make: object
    target_ms: float | None
    signin: object = None  # a coroutine signing the client in, or None: anonymous
    note: str = ""
    #: Measured requests (None: --requests), after the unmeasured warm-up ones or not.
    requests: int | None = None
    warm_up: bool = True


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="a seeded database's URL")
    parser.add_argument("--requests", type=int, default=200, help="measured requests per page")
    parser.add_argument("--max-seconds", type=float, default=30, help="at most, per page")
    parser.add_argument("--staff", default="agent.voirie@issy.example.org", help="the agent")
    parser.add_argument(
        "--stats-staff", default="cabinet@issy.example.org", help="who reads the statistics"
    )
    parser.add_argument(
        "--queue-filters", default="status=open&category=pothole", help="the queue's filters"
    )
    parser.add_argument("--seed", type=int, default=17, help="random seed of the samples")
    parser.add_argument("--only", default="", help="only the pages whose name holds this")
    parser.add_argument(
        "--light-seconds", type=float, default=5, help="seconds per answer and way it travels"
    )
    parser.add_argument("--rounds", type=int, default=4, help="rounds of the versus lines")
    parser.add_argument(
        "--versus-seconds", type=float, default=3, help="seconds per versus line and round"
    )
    parser.add_argument("--versus-clients", type=int, default=2, help="clients of the versus")
    parser.add_argument(
        "--kept-bytes",
        type=int,
        default=None,
        help="TellCity's KEPT_ANSWERS_BYTES (0: every answer made again; default: the app's)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tellcity-reads-") as tmp:
        run(args, Path(tmp))


def run(args, tmp: Path) -> None:
    app = create_app(
        {"INSTANCE_PATH": tmp / "setup", "DATABASE_URL": args.database, "SECRET_KEY": "bench"}
    )
    rng = np.random.default_rng(args.seed)
    with app.app_context():
        samples = Samples.draw(args.staff, rng)
        prepare_staff(args.stats_staff)
        forget_statistics()
        db.session.remove()
        db.engine.dispose()
    env = {
        "TELLCITY_DATABASE_URL": args.database,
        "TELLCITY_INSTANCE_PATH": str(tmp / "tellcity"),
        "TELLCITY_SECRET_KEY": "bench",
        "TELLCITY_RATELIMIT_SIGNIN": "1000 per minute",
    }
    if args.kept_bytes is not None:
        env["TELLCITY_KEPT_ANSWERS_BYTES"] = str(args.kept_bytes)
    if args.only == "versus":
        with (
            Gunicorn("bare_app:create_app()", {"TELLCITY_DATABASE_URL": args.database}) as bare,
            Gunicorn("tellcity:create_app()", env, ready_path="/healthz") as server,
        ):
            print_versus(versus(server.url, bare.url, samples, args), args, samples)
            peaks = ", ".join(f"{mb:.0f} MB" for mb in server.peak_rss_mb().values())
            print(f"TellCity's workers' peak resident memory (VmHWM): {peaks}")
        return
    with Gunicorn("bare_app:create_app()", {"TELLCITY_DATABASE_URL": args.database}) as bare:
        baseline = measure(bare.url, baseline_page(samples), args)
    with Gunicorn("tellcity:create_app()", env, ready_path="/healthz") as server:
        workers = server.worker_pids()
        pages = [page for page in app_pages(samples, server.url, args) if args.only in page.name]
        loads = []
        for page in pages:
            load = measure(server.url, page, args)
            loads.append((page, load, max(server.peak_rss_mb().values(), default=0)))
        memory = server.peak_rss_mb()
        restarted = workers != server.worker_pids()
        wanted = not args.only or args.only == "light"
        light = travel_light(server.url, samples, args) if wanted else []
    if pages:
        print_results(args, samples, baseline, loads, memory)
    if light:
        print_light(light)
    if restarted:
        print("A worker was restarted during the run (a request past gunicorn's 30 s timeout):")
        print("the peak memory of the worker it replaced is not in these figures.")


@dataclass
class Samples:
    """What the requests ask for, drawn from the seeded database."""

    reports: int
    ids: list[int]
    centres: list[tuple[float, float]]
    tickets: list[str]
    #: References of public reports (Open311's single request).
    public: list[str]

    @classmethod
    def draw(cls, staff_email: str, rng: np.random.Generator, size: int = 500) -> "Samples":
        count = db.session.scalar(sa.select(sa.func.count(Report.id)))
        if not count:
            raise SystemExit("No reports here: seed the database first (bench/seed.py).")
        max_id = db.session.scalar(sa.select(sa.func.max(Report.id)))
        staff = prepare_staff(staff_email)
        ids = [int(i) for i in rng.integers(1, max_id + 1, size)]
        positions = db.session.execute(
            sa.select(Report.lat, Report.lon).where(Report.id.in_(ids), Report.lat.is_not(None))
        ).all()
        tickets = db.session.scalars(
            sa.select(Report.reference).where(
                Report.id.in_(ids), Report.department_id == staff.department_id
            )
        ).all()
        if not tickets:  # a department with few reports: its latest ones
            tickets = db.session.scalars(
                sa.select(Report.reference)
                .where(Report.department_id == staff.department_id)
                .order_by(Report.id.desc())
                .limit(size)
            ).all()
        public = db.session.scalars(
            sa.select(Report.reference).where(
                Report.id.in_(ids), Report.is_hidden.is_(False), Report.status != "rejected"
            )
        ).all()
        return cls(count, ids, [tuple(p) for p in positions], list(tickets), list(public))


def prepare_staff(email: str) -> User:
    """The agent the staff pages are read as, with a known password, not locked out."""
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is None or not user.is_staff:
        raise SystemExit(f"No staff account {email} in this database.")
    user.set_password(PASSWORD)
    user.failed_logins = 0
    user.locked_until = None
    db.session.commit()
    return user


def forget_statistics() -> None:
    """No statistics kept from an earlier run: the first request computes them (cold)."""
    if sa.inspect(db.engine).has_table("stats_snapshots"):
        db.session.execute(sa.text("DELETE FROM stats_snapshots"))
        db.session.commit()


def signer(email: str):
    """A coroutine signing a client session in: the CSRF token from the form, then the POST."""

    async def sign_in(session) -> None:
        async with session.get("/account/signin") as response:
            page = await response.text()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        if token is None:
            raise RuntimeError("no CSRF token in the sign-in form")
        form = {"email": email, "password": PASSWORD, "csrf_token": token[1]}
        async with session.post("/account/signin", data=form, allow_redirects=False) as response:
            if response.status != 302:
                raise RuntimeError(f"sign-in answered {response.status}, not a redirect")

    return sign_in


def baseline_page(samples: Samples) -> Page:
    ids = samples.ids
    return Page(
        "bare SELECT id WHERE id = ? (baseline)", lambda n: f"/reports/{ids[n % len(ids)]}", None
    )


def app_pages(samples: Samples, url: str, args) -> list[Page]:
    pages = [map_page(name, size, samples) for name, size in VIEWPORTS.items()]
    filters, agent = args.queue_filters, signer(args.staff)
    pages.append(Page(f"queue page 1 ({filters})", lambda n: f"/staff/?{filters}", 100, agent))
    cursor_path, found = page_path(url, agent, filters, QUEUE_PAGES)
    if cursor_path:
        pages.append(Page(f"queue page {QUEUE_PAGES}", lambda n: cursor_path, 100, agent))
    else:
        pages.append(skipped(f"queue page {QUEUE_PAGES}", f"only {found} pages with these filters"))
    tickets = samples.tickets
    pages.append(
        Page("ticket page", lambda n: f"/staff/tickets/{tickets[n % len(tickets)]}", None, agent)
    )
    today = date.today()
    year = urlencode({"from": (today - timedelta(days=364)).isoformat(), "to": today.isoformat()})
    mayor, stats_path = signer(args.stats_staff), f"/api/v1/stats?{year}"
    cold = optional(url, mayor, "city stats, a year: cold (1st request)", stats_path, None)
    cold.requests, cold.warm_up = 1, False
    pages.append(cold)
    pages.append(optional(url, mayor, "city stats, a year: kept (mayor)", stats_path, 300))
    pages.append(optional(url, None, "Open311 requests.json", "/open311/v2/requests.json", 200))
    public = samples.public
    pages.append(
        Page(
            "Open311 one request",
            lambda n: f"/open311/v2/requests/{public[n % len(public)]}.json",
            None,
        )
    )
    pages.append(optional(url, None, "Open311 services.json", "/open311/v2/services.json", None))
    return pages


def map_page(name: str, size: tuple[float, float], samples: Samples) -> Page:
    width, height = size
    boxes = [
        f"{lon - width / 2:.6f},{lat - height / 2:.6f},{lon + width / 2:.6f},{lat + height / 2:.6f}"
        for lat, lon in samples.centres
    ]
    return Page(
        f"map markers, {name}",
        lambda n: f"/reports/markers.json?{urlencode({'bbox': boxes[n % len(boxes)]})}",
        50,
    )


def skipped(name: str, note: str) -> Page:
    return Page(name, None, None, note=note)


def optional(url: str, signin, name: str, path: str, target_ms: float | None) -> Page:
    """The page, or a skipped line when the app does not have it (yet)."""
    if probe(url, path) == 404:
        return skipped(name, f"skipped: {path.split('?')[0]} answers 404 (not in this version)")
    return Page(name, lambda n: path, target_ms, signin)


def probe(url: str, path: str) -> int:
    """The status of one anonymous request."""

    async def get(session) -> int:
        async with session.get(path, allow_redirects=False) as response:
            return response.status

    return with_session(url, get)


def page_path(url: str, signin, filters: str, page: int) -> tuple[str | None, int]:
    """The path of the queue's page `page` (following the "next page" links), or None and how
    many pages there are."""
    paths = [f"/staff/?{filters}"]

    async def follow(session) -> None:
        await signin(session)
        while len(paths) < page:
            async with session.get(paths[-1]) as response:
                text = await response.text()
            link = re.search(r'<a href="([^"]+)" rel="next">', text)
            if link is None:
                return
            paths.append(html.unescape(link[1]))

    with_session(url, follow)
    return (paths[-1] if len(paths) == page else None), len(paths)


def measure(url: str, page: Page, args) -> Load | None:
    if page.make is None:
        return None
    setup = page.signin

    def requests(n: int):
        return "GET", page.make(n), {}

    options = {"concurrency": 1, "duration": args.max_seconds, "warmup": 0, "session_setup": setup}
    if page.warm_up:
        run_load("warm-up", url, requests, max_requests=WARMUP_REQUESTS, **options)
    return run_load(
        page.name, url, requests, max_requests=page.requests or args.requests, **options
    )


#: Open311 against the bare app: (line, TellCity's path, the baseline: "bare" and its path, or
#: "json" and the TellCity line whose rate it is compared with), in `versus_lines`.
PAGE = "page_size=100"
FILTERED = "service_code=pothole&status=open&page_size=100"
IDENTITY = {"headers": {"Accept-Encoding": "identity"}}


def versus_lines(samples: Samples) -> list[tuple[str, object, str, object]]:
    """(line, TellCity's path of the n-th request, baseline, the baseline's path or line)."""
    width, height = VIEWPORTS["desktop z16"]
    boxes = [
        f"{lon - width / 2:.5f},{lat - height / 2:.5f},{lon + width / 2:.5f},{lat + height / 2:.5f}"
        for lat, lon in samples.centres
    ]
    public, ids = samples.public, samples.ids

    def box(n: int) -> str:
        return f"bbox={boxes[n % len(boxes)]}&{PAGE}"

    return [
        (
            "requests.json, 100",
            lambda n: f"/open311/v2/requests.json?{PAGE}",
            "bare",
            lambda n: f"/requests?{PAGE}",
        ),
        (
            "requests.json, 100, code+status",
            lambda n: f"/open311/v2/requests.json?{FILTERED}",
            "bare",
            lambda n: f"/requests?{FILTERED}",
        ),
        (
            "requests.json, 100, bbox",
            lambda n: f"/open311/v2/requests.json?{box(n)}",
            "bare",
            lambda n: f"/requests?{box(n)}",
        ),
        (
            "requests.xml, 100",
            lambda n: f"/open311/v2/requests.xml?{PAGE}",
            "json",
            "requests.json, 100",
        ),
        (
            "requests.xml, 100, code+status",
            lambda n: f"/open311/v2/requests.xml?{FILTERED}",
            "json",
            "requests.json, 100, code+status",
        ),
        (
            "requests.xml, 100, bbox",
            lambda n: f"/open311/v2/requests.xml?{box(n)}",
            "json",
            "requests.json, 100, bbox",
        ),
        (
            "one request (requests/{id}.json)",
            lambda n: f"/open311/v2/requests/{public[n % len(public)]}.json",
            "bare",
            lambda n: f"/reports/{ids[n % len(ids)]}",
        ),
        (
            "services.json",
            lambda n: "/open311/v2/services.json",
            "bare",
            lambda n: f"/reports/{ids[n % len(ids)]}",
        ),
    ]


def same_rows(app_url: str, bare_url: str, samples: Samples) -> list[str]:
    """The lines whose TellCity page and bare page do not hold the same requests."""
    differ = []
    for name, app_path, kind, bare_path in versus_lines(samples):
        if kind != "bare" or not name.startswith("requests.json"):
            continue
        for n in range(3):
            with urllib.request.urlopen(app_url + app_path(n), timeout=60) as answer:
                mine = [r["service_request_id"] for r in json.load(answer)]
            with urllib.request.urlopen(bare_url + bare_path(n), timeout=60) as answer:
                theirs = [r["reference"] for r in json.load(answer)]
            if mine != theirs or not mine:
                differ.append(f"{name} ({len(mine)} against {len(theirs)} requests)")
                break
    return differ


def versus(app_url: str, bare_url: str, samples: Samples, args) -> dict:
    """{line: ([TellCity's Load per round], [the bare's Load per round, or None])}."""
    differ = same_rows(app_url, bare_url, samples)
    if differ:
        print("TellCity and the bare app do not answer the same requests:", "; ".join(differ))
    runs: dict[str, tuple[list, list]] = {}
    options = {"concurrency": args.versus_clients, "duration": args.versus_seconds, "warmup": 0.5}
    for round_ in range(args.rounds):
        for name, app_path, kind, bare_path in versus_lines(samples):
            mine, theirs = runs.setdefault(name, ([], []))
            servers = [("app", app_url, app_path)]
            if kind == "bare":
                servers.append(("bare", bare_url, bare_path))
            if round_ % 2:
                servers.reverse()
            for which, url, path in servers:
                load = run_load(
                    f"{name} {which}",
                    url,
                    lambda n, path=path: ("GET", path(n), IDENTITY),
                    **options,
                )
                (mine if which == "app" else theirs).append(load)
    return runs


def print_versus(runs: dict, args, samples: Samples) -> None:
    print(
        f"Open311 against bare endpoints ({samples.reports:,} reports), {args.rounds} rounds of"
        f" {args.versus_seconds:g} s a line, {args.versus_clients} clients, identity,"
        f" KEPT_ANSWERS_BYTES {'default' if args.kept_bytes is None else args.kept_bytes}"
    )
    print(
        f"{'line':<36}{'req/s':>8}{'p50 ms':>8}{'err':>5}  {'baseline':<22}{'req/s':>8}"
        f"{'p50 ms':>8}{'ratio':>7}  rounds       goal"
    )
    goals = {"bare": 0.5, "json": 0.8}
    for name, _app_path, kind, baseline in versus_lines(samples):
        mine, theirs = runs[name]
        if kind == "json":
            theirs, label = runs[baseline][0], "TellCity's JSON"
        else:
            label = "bare /requests" if name.startswith("requests") else "bare SELECT id"
        goal = goals[kind] if name.startswith("requests") else 0.7
        rounds = [a.rate / b.rate for a, b in zip(mine, theirs, strict=True) if b.rate]
        app, base = combined(name, mine), combined(label, theirs)
        ratio = app.rate / base.rate if base.rate else float("nan")
        spread = f"{min(rounds):.2f}-{max(rounds):.2f}" if rounds else "-"
        verdict = "met" if ratio >= goal else "NOT met"
        print(
            f"{name:<36}{app.rate:>8,.0f}{app.percentile(50):>8.1f}{app.errors + base.errors:>5}"
            f"  {label:<22}{base.rate:>8,.0f}{base.percentile(50):>8.1f}{ratio:>7.2f}"
            f"  {spread:<12} >= {goal:g}: {verdict}"
        )


def light_answers(samples: Samples) -> dict[str, str]:
    lat, lon = samples.centres[0]
    width, height = VIEWPORTS["desktop z16"]
    west, south, east, north = lon - width / 2, lat - height / 2, lon + width / 2, lat + height / 2
    box = f"{west:.5f},{south:.5f},{east:.5f},{north:.5f}"
    return {
        "Open311 requests.json": "/open311/v2/requests.json",
        "Open311 requests.xml": "/open311/v2/requests.xml",
        "API categories": "/api/v1/categories",
        "map markers, desktop z16": f"/reports/markers.json?bbox={box}",
    }


def travel_light(url: str, samples: Samples, args) -> list[tuple[str, str, int, Load]]:
    """(answer, way, bytes of the body, Load) for each answer and way it travels."""
    rows = []
    for name, path in light_answers(samples).items():
        with urllib.request.urlopen(url + path, timeout=60) as first:
            etag = first.headers.get("ETag", "")
        ways = {
            "identity": {"Accept-Encoding": "identity"},
            "br": {"Accept-Encoding": "br"},
            "304": {"Accept-Encoding": "br", "If-None-Match": etag},
        }
        for way, headers in ways.items():
            size = body_size(url + path, headers)
            load = run_load(
                f"{name}, {way}",
                url,
                lambda n, headers=headers, path=path: ("GET", path, {"headers": headers}),
                concurrency=4,
                duration=args.light_seconds,
                warmup=1,
            )
            rows.append((name, way, size, load))
    return rows


def body_size(url: str, headers: dict) -> int:
    """The bytes of the body as sent (compressed if it is), 0 for a 304."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return len(answer.read())
    except urllib.error.HTTPError as error:
        if error.code == 304:
            return 0
        raise


def print_light(rows: list) -> None:
    print("Answers clients poll: uncompressed, compressed (br), and 304 to a client holding them")
    print(f"{'answer, way':<44}{'bytes':>10}{'req/s':>9}{'p50 ms':>9}{'err':>6}{'x identity':>12}")
    identity = {}
    for name, way, size, load in rows:
        if way == "identity":
            identity[name] = load.rate
        ratio = load.rate / identity[name] if identity.get(name) else float("nan")
        print(
            f"{load.label:<44}{size:>10,}{load.rate:>9,.0f}{load.percentile(50):>9.1f}"
            f"{load.errors:>6}{ratio:>12.2f}"
        )


def print_results(args, samples: Samples, baseline: Load, loads: list, memory: dict) -> None:
    shown = sa.make_url(args.database).render_as_string(hide_password=True)
    print(f"Reads on {shown} ({samples.reports:,} reports): gunicorn -w 2 (sync), one client")
    print(f"{'page':<44}{'n':>5}{'err':>5}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}", end="")
    print(f"{'x base':>8}{'RSS MB':>8}  target p95")
    base = baseline.percentile(50)
    line(baseline, base, None, None)
    for page, load, rss in loads:
        if load is None:
            print(f"{page.name:<44}{page.note}")
        else:
            line(load, base, page.target_ms, rss)
    peaks = ", ".join(f"{mb:.0f} MB" for mb in memory.values())
    worst = max(memory.values(), default=float("nan"))
    verdict = "met" if worst < TARGET_MEMORY_MB else "NOT met"
    print(f"peak RSS (VmHWM) of the TellCity workers after these reads: {peaks}", end="")
    print(f" (target < {TARGET_MEMORY_MB} MB: {verdict})")
    print("x base: the page's p50 over the bare indexed select's p50, same gunicorn, same database")
    print("RSS MB: the largest peak resident memory (VmHWM) of the workers after that page")


def line(load: Load, base: float, target_ms: float | None, rss: float | None) -> None:
    p95 = load.percentile(95)
    if target_ms is None:
        verdict = "-"
    else:
        verdict = f"< {target_ms:g} ms: {'met' if p95 < target_ms else 'NOT met'}"
    print(
        f"{load.label:<44}{load.requests:>5}{load.errors:>5}{load.percentile(50):>9.1f}"
        f"{p95:>9.1f}{load.percentile(99):>9.1f}{load.percentile(50) / base:>8.1f}"
        f"{'' if rss is None else f'{rss:.0f}':>8}  {verdict}"
    )


if __name__ == "__main__":
    sys.exit(main())
