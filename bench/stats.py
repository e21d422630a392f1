"""How fast a statistics view is computed cold (no snapshot kept) from the per-day aggregates
(tellcity.stats.aggregates), against the same view computed from the reports themselves
(`raw=True`, the computation before the aggregates) in the same run.

    python bench/stats.py [--database URL] [--runs 7] [--raw-runs 2] [--worker-lag]

Run it on a database seeded by bench/seed.py and migrated (the migration 0015 fills the
aggregates). The views are a city's year (the last 365 days) alone and filtered as the pages
offer: by its busiest department, category and zone, by kind (suggestions), a department and
a zone together, public reports only; and the last 30 days and last month. Each view is
computed whole, as a page and its snapshot do (Overview.to_document: the tables, the series,
the previous period, transfers, hotspots, the top suggestions), each time in a new transaction
and a new Overview: nothing is kept between two runs but what the database caches. Each line
gives p50 / p95 ms over --runs (aggregates) and --raw-runs (raw) and the ratio; the last line,
over every view. "figures" is the part read from the aggregates alone (counts, durations,
series, previous period); the rest (transfers, reopenings, hotspots, suggestions) reads the
reports either way.

With --worker-lag: the delivery lag of the worker's outbox while it refreshes the default
views (tellcity.notify.worker, its periodic jobs in their own threads): messages are queued
every 0.1 s for 20 s while `refresh_default_views` runs in another thread on an empty
snapshot table, and the lag (sent - queued) of each is read back; with --lag-baseline, the
same without the refresh. Needs a scratch copy of the database: it writes outbox messages and
snapshots.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from tellcity import create_app
from tellcity.categories.models import Category
from tellcity.cities.models import City, Zone
from tellcity.core.db import utcnow
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.reports.models import Report
from tellcity.stats import aggregates, queries
from tellcity.stats.periods import last_days, last_month, month_range


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def busiest(model, column, city: City):
    """The code of the city's `model` with the most reports."""
    key = sa.select(column).group_by(column).order_by(sa.func.count().desc()).limit(1)
    found = db.session.scalar(key.where(Report.city_id == city.id))
    return db.session.get(model, found)


def views(city: City, now) -> dict[str, dict]:
    year = last_days(city.timezone, 365, now)
    month = month_range(last_month(city.timezone, now), city.timezone)
    department = busiest(Department, Report.department_id, city)
    category = busiest(Category, Report.category_id, city)
    zone = busiest(Zone, Report.zone_id, city)
    a_year = {"first": year.first, "last": year.last}
    return {
        "year": a_year,
        f"year, department {department.slug}": a_year | {"department": department.slug},
        f"year, category {category.code}": a_year | {"category": category.code},
        f"year, zone {zone.slug}": a_year | {"zone": zone.slug},
        "year, suggestions": a_year | {"kind": "suggestion"},
        "year, department and zone": a_year | {"department": department.slug, "zone": zone.slug},
        "year, public": a_year | {"is_public": True},
        "last 30 days": {},
        "last month": {"first": month.first, "last": month.last},
    }


def timed(city_id: int, options: dict, now, raw: bool) -> tuple[float, float, float]:
    """(whole view, figures alone, durations alone) in ms, in a new transaction (the
    durations: the view's medians and percentiles computed again, in another, after it)."""
    db.session.remove()
    city = db.session.get(City, city_id)
    filters = queries.make_filters(city, now=now, **options)
    started = time.perf_counter()
    stats = queries.Overview(filters, now=now, raw=raw)
    _ = stats._figures, stats.series, stats.previous
    figures = time.perf_counter() - started
    stats.to_document()
    whole = time.perf_counter() - started
    db.session.rollback()
    if raw:
        return whole * 1000, figures * 1000, 0.0
    started = time.perf_counter()  # the medians and percentiles alone, as the view reads them
    for measure in aggregates.MEASURES.values():
        aggregates.spreads(filters, measure, queries.DURATION_GROUPINGS)
    aggregates.spreads(filters.previous(), aggregates.MEASURES["time_to_close"])
    durations = time.perf_counter() - started
    db.session.rollback()
    return whole * 1000, figures * 1000, durations * 1000


def run(args) -> None:
    city = db.session.scalar(sa.select(City).order_by(City.id))
    now = utcnow()
    print(f"{db.engine.url.render_as_string(hide_password=True)}: city {city.slug}, ", end="")
    print(f"{db.session.scalar(sa.select(sa.func.count()).select_from(Report)):,} reports")
    header = f"{'view':40} {'aggregates p50/p95':>20} {'figures p50/p95':>16}"
    header += f" {'durations p50/p95':>18} {'raw p50/p95':>16}"
    print(header + "  ratio")
    every = {"agg": [], "raw": [], "figures": [], "durations": []}
    for name, options in views(city, now).items():
        agg, figures, durations, raw = [], [], [], []
        for index in range(max(args.runs, args.raw_runs)):
            if index < args.raw_runs:
                raw.append(timed(city.id, options, now, raw=True)[0])
            if index < args.runs:
                whole, part, spreads = timed(city.id, options, now, raw=False)
                agg.append(whole)
                figures.append(part)
                durations.append(spreads)
        every["agg"] += agg
        every["raw"] += raw
        every["figures"] += figures
        every["durations"] += durations
        line = f"{name:40} {percentile(agg, 50):9,.0f} / {percentile(agg, 95):7,.0f}"
        line += f" {percentile(figures, 50):7,.0f} / {percentile(figures, 95):6,.0f}"
        line += f" {percentile(durations, 50):8,.0f} / {percentile(durations, 95):6,.0f}"
        if raw:
            line += f" {percentile(raw, 50):8,.0f} / {percentile(raw, 95):5,.0f}"
            line += f"  {statistics.median(raw) / statistics.median(agg):5.1f}x"
        print(line, flush=True)
    agg, raw, figures, durations = (every[name] for name in ("agg", "raw", "figures", "durations"))
    line = f"{'every view':40} {percentile(agg, 50):9,.0f} / {percentile(agg, 95):7,.0f}"
    line += f" {percentile(figures, 50):7,.0f} / {percentile(figures, 95):6,.0f}"
    line += (
        f" {percentile(every['durations'], 50):8,.0f} / {percentile(every['durations'], 95):6,.0f}"
    )
    if raw:
        line += f" {percentile(raw, 50):8,.0f} / {percentile(raw, 95):5,.0f}"
        line += f"  {statistics.median(raw) / statistics.median(agg):5.1f}x"
    print(line)


def worker_lag(args) -> None:
    """The outbox's delivery lag while the worker refreshes the default views: the real worker
    (run_worker, deliveries and the "stats" jobs, each in its thread) against a local SMTP
    server (aiosmtpd), an email queued every 0.1 s for --lag-seconds, on an empty snapshot
    table so that the refresh computes every default view."""
    import socket
    import threading

    from aiosmtpd.controller import Controller
    from flask import current_app

    from tellcity.notify import worker
    from tellcity.notify.models import OutboxMessage
    from tellcity.stats.models import StatsSnapshot

    class Sink:
        async def handle_DATA(self, server, session, envelope):
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    smtp = Controller(Sink(), hostname="127.0.0.1", port=port)
    smtp.start()
    app = current_app._get_current_object()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    db.session.execute(sa.delete(StatsSnapshot))
    db.session.commit()
    first_id = db.session.scalar(sa.select(sa.func.max(OutboxMessage.id))) or 0
    refreshed = {}
    job = worker.warm_stats_snapshots

    def timed_refresh():
        started = time.perf_counter()
        job()
        refreshed.setdefault("seconds", time.perf_counter() - started)

    stop = threading.Event()
    jobs = worker.PERIODIC_JOBS
    # This run's refresh alone, timed (none with --lag-baseline: the lag of deliveries alone).
    worker.PERIODIC_JOBS = [] if args.lag_baseline else [(3600.0, timed_refresh)]
    if args.lag_baseline:
        refreshed["seconds"] = 0.0
    runner = threading.Thread(
        target=worker.run_worker, kwargs={"app": app, "interval": 0.2, "stop": stop}
    )
    runner.start()
    deadline = time.monotonic() + args.lag_seconds
    while time.monotonic() < deadline:
        db.session.add(
            OutboxMessage(
                channel="email",
                recipient="lag@example.org",
                subject="Lag",
                body="A message to time the worker's deliveries.",
            )
        )
        db.session.commit()
        time.sleep(0.1)
    time.sleep(2)
    while "seconds" not in refreshed:
        time.sleep(0.5)
    stop.set()
    runner.join()
    worker.PERIODIC_JOBS = jobs
    smtp.stop()
    rows = db.session.execute(
        sa.select(OutboxMessage.created_at, OutboxMessage.sent_at).where(
            OutboxMessage.id > first_id
        )
    ).all()
    lags = [(sent - created).total_seconds() * 1000 for created, sent in rows if sent]
    print(f"refresh of the default views (every city): {refreshed['seconds']:.1f} s")
    print(
        f"delivery lag meanwhile: {len(lags)}/{len(rows)} sent, p50 {percentile(lags, 50):.0f}"
        f" ms, p95 {percentile(lags, 95):.0f} ms, max {max(lags):.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="sqlite:////tmp/tellcity-bench.sqlite3")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--raw-runs", type=int, default=2)
    parser.add_argument("--worker-lag", action="store_true")
    parser.add_argument("--lag-seconds", type=float, default=20.0)
    parser.add_argument("--lag-baseline", action="store_true", help="the lag with no refresh")
    args = parser.parse_args()
    app = create_app({"DATABASE_URL": args.database, "STATS_CACHE_SECONDS": 300})
    with app.app_context():
        if args.worker_lag:
            worker_lag(args)
        else:
            run(args)


if __name__ == "__main__":
    main()
