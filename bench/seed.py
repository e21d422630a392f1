"""Fill a database with a city's worth of reports, for the read benchmarks.

    python bench/seed.py [N] [--database URL] [--years 3] [--batch-size 10000] [--seed 92040]

N reports (default 1,000,000) over the demo city and the last `--years` years. The database
gets the schema (the migrations, as `tellcity init` runs them) and the demo city when it holds
no city yet; the reports are added to what it already holds.

The reports look like a city's: categories weighted like a real city's (fly-tipping and
potholes first, a few ideas), positions drawn inside the city limits (denser around a few busy
places) and routed by the city's own rules, more reports as the service gets known. Statuses
follow from each report's age and its category's SLA: old reports are mostly closed, recent
ones mostly new, and a few stay stuck open. Deadlines (`at_risk_at`, `due_at`) are the city's
business hours, computed in bulk and checked against `BusinessCalendar`. Each report has its
history as the services write it: a `created` event with the routing decision, a
`status_change` per move (acknowledged, in progress, resolved or closed with a reason), an
assignment, the escalation of an overdue ticket, the reporter's confirmation; and its "me too"s
as `supports` rows counted in `support_count`.

Rows go in through SQLAlchemy Core on the models' tables, in batches of one transaction each;
references (ISS-YYYY-NNNNNN) continue the city's sequence per year, and the sequence is set at
the end (with PostgreSQL's id sequences). PostgreSQL gets a VACUUM ANALYZE at the end, as
autovacuum would after a bulk load; SQLite gets ANALYZE only with --analyze, since the app
never runs it.
"""

import argparse
import contextlib
import io
import math
import os
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import shapely
import sqlalchemy as sa
from shapely.geometry import shape

from tellcity import create_app
from tellcity.accounts.models import Role, User
from tellcity.categories.models import Category
from tellcity.cities.models import City, Zone
from tellcity.cli import upgrade_database
from tellcity.demo.services import load_city_file
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.reports.lifecycle import REASON_CODES
from tellcity.reports.models import Report, ReportEvent, ReportSequence, Support
from tellcity.reports.states import OPEN_STATUSES, EventType, Kind, Source, Status
from tellcity.routing.services import route
from tellcity.sla.calendar import AT_RISK_SHARE, BusinessCalendar
from tellcity.stats import daily

DEFAULT_DATABASE = "sqlite:////tmp/tellcity-bench.sqlite3"
#: Keys of a report's row that are not columns, dropped before the insert.
PRIVATE_KEYS = ("_category", "_routing", "_actor")
DEMO_CITY = "issy-les-moulineaux"

#: Share of each category among reports, as in a city's 311 volumes: dumping and potholes lead.
CATEGORY_WEIGHTS = {
    "illegal-dumping": 20,
    "pothole": 16,
    "street-light": 9,
    "graffiti": 8,
    "overflowing-bin": 7,
    "pavement": 7,
    "obstructive-parking": 6,
    "dog-fouling": 4,
    "other": 3,
    "abandoned-vehicle": 3,
    "road-marking": 3,
    "noise": 3,
    "dangerous-tree": 2,
    "park-equipment": 2,
    "overgrown-vegetation": 2,
    "bus-shelter": 1.5,
    "traffic-light": 1,
    "public-building": 1,
    "idea-mobility": 1,
    "idea-environment": 0.8,
    "idea-public-space": 0.8,
    "idea-culture-sport": 0.5,
    "idea-other": 0.4,
}
#: How problems end: resolved, or closed another way (with the statuses' reason codes).
PROBLEM_ENDINGS = {
    Status.RESOLVED: 0.88,
    Status.DUPLICATE: 0.05,
    Status.NOT_ACTIONABLE: 0.035,
    Status.REFERRED: 0.015,
    Status.REJECTED: 0.02,
}
#: How ideas end (planned and under_review ones stay open).
IDEA_ENDINGS = {
    Status.DECLINED: 0.45,
    Status.DONE: 0.25,
    Status.PLANNED: 0.15,
    Status.UNDER_REVIEW: 0.10,
    Status.REJECTED: 0.03,
    Status.DUPLICATE: 0.02,
}
#: Share of problems nobody ever closes: the backlog of old open tickets.
STUCK_SHARE = 0.03
#: Reports per local hour of the day (people report on their way to work and in the evening).
HOURLY_WEIGHTS = [1, 0.5, 0.3, 0.3, 0.4, 1, 3, 6, 8, 8, 7, 7, 7, 6, 6, 6, 7, 8, 8, 7, 5, 4, 3, 2]
SOURCES = {Source.WEB: 0.7, Source.API: 0.25, Source.OPEN311: 0.05}
ACTOR_LABELS = {Source.WEB: "resident", Source.API: "API key public", Source.OPEN311: "API key app"}

STREETS = [
    "rue du Général Leclerc",
    "avenue Victor Cresson",
    "boulevard Gallieni",
    "rue Ernest Renan",
    "rue Camille Desmoulins",
    "avenue de la République",
    "rue Jean-Jacques Rousseau",
    "rue Guynemer",
    "rue Minard",
    "quai de la Bataille de Stalingrad",
    "avenue Jean Jaurès",
    "rue d'Estienne d'Orves",
    "rue Marceau",
    "boulevard Voltaire",
    "rue du Docteur Lombard",
    "place de l'Hôtel de Ville",
    "rue Aristide Briand",
    "allée Sainte-Lucie",
    "rue Horace Vernet",
    "avenue de Verdun",
]
TEXTS = {
    "pothole": [
        "Nid-de-poule profond sur la chaussée, dangereux pour les vélos.",
        "Trou dans la route devant l'arrêt de bus, les voitures font des écarts.",
        "La chaussée s'affaisse au niveau de la plaque d'égout.",
    ],
    "illegal-dumping": [
        "Un canapé et des cartons déposés sur le trottoir.",
        "Sacs d'ordures et gravats abandonnés au pied de l'arbre.",
        "Matelas et meubles laissés devant l'immeuble depuis plusieurs jours.",
    ],
    "street-light": [
        "Le lampadaire devant le n° 12 ne s'allume plus depuis trois soirs.",
        "L'éclairage clignote toute la nuit dans la rue.",
    ],
    "graffiti": ["Tags sur le mur de l'école, côté rue.", "Graffiti sur le transformateur."],
    "overflowing-bin": ["La corbeille déborde, les déchets s'envolent."],
    "pavement": ["Dalle descellée, on trébuche facilement.", "Trottoir encombré par des vélos."],
    "obstructive-parking": ["Voiture garée sur le passage piéton tous les matins."],
    "abandoned-vehicle": ["Voiture sans plaque garée ici depuis des semaines."],
    "road-marking": ["Le marquage du passage piéton est presque effacé."],
    "bus-shelter": ["Vitre de l'abribus brisée, éclats de verre au sol."],
    "dangerous-tree": ["Grosse branche cassée qui pend au-dessus du trottoir."],
    "park-equipment": ["Le toboggan de l'aire de jeux a une marche cassée."],
}
DEFAULT_TEXTS = ["Problème constaté à cet endroit, merci d'intervenir.", "À vérifier sur place."]
IDEA_TEXTS = [
    "Des arceaux vélos devant la médiathèque.",
    "Végétaliser la cour de l'école élémentaire.",
    "Des bancs à l'ombre le long de la promenade des bords de Seine.",
    "Un terrain de basket en accès libre dans le parc.",
]
EXTRA_SENTENCES = ["", "", " Merci d'avance.", " C'est la deuxième fois que je le signale."]
#: Public texts of the moves that need one.
MOVE_TEXTS = {
    Status.RESOLVED: "C'est réparé. Merci de votre signalement !",
    Status.UNDER_REVIEW: "Votre idée est à l'étude par les services.",
    Status.PLANNED: "Votre idée sera réalisée : elle est inscrite au programme.",
    Status.DECLINED: "Votre idée n'a pas été retenue cette année.",
    Status.DONE: "C'est fait !",
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("reports", nargs="?", type=int, default=1_000_000, help="how many")
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="SQLAlchemy URL")
    parser.add_argument("--years", type=float, default=3, help="span of the reports' dates")
    parser.add_argument("--batch-size", type=int, default=10_000, help="reports per transaction")
    parser.add_argument("--seed", type=int, default=92040, help="random seed")
    parser.add_argument("--analyze", action="store_true", help="run ANALYZE on SQLite too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tellcity-seed-") as instance:
        app = create_app(
            {"INSTANCE_PATH": instance, "DATABASE_URL": args.database, "SECRET_KEY": "seed"}
        )
        with app.app_context():
            seed(args)
            db.session.remove()
            db.engine.dispose()


def seed(args) -> None:
    started = time.perf_counter()
    city = prepare_database()
    rng = np.random.default_rng(args.seed)
    now = time.time()
    plan = CityPlan.build(city, rng, now - args.years * 365.25 * 86400, now)
    print(f"Seeding {args.reports:,} reports into {safe_url()} ({plan.summary()})")
    seeder = Seeder(plan, rng, args.reports, now)
    counts, insert_seconds = seeder.run(args.batch_size)
    finish_seconds = finish(plan, seeder, args.analyze)
    total = time.perf_counter() - started
    report_rates(counts, insert_seconds, finish_seconds, total)


def prepare_database() -> City:
    """The schema at the latest migration and the demo city, when the database has none."""
    with contextlib.redirect_stderr(io.StringIO()):  # Alembic's log lines
        upgrade_database()
    city = db.session.scalar(sa.select(City).where(City.slug == DEMO_CITY))
    if city is None:
        city, _accounts = load_city_file()
        db.session.commit()
    return city


def safe_url() -> str:
    return db.engine.url.render_as_string(hide_password=True)


class BusinessClock:
    """Business time as a function of real time over a range of days, in bulk: the seconds of
    opening hours elapsed since the first opening, piecewise linear between the city's opening
    spans. `add` does what `BusinessCalendar.add_business_hours` does, for arrays."""

    def __init__(self, calendar: BusinessCalendar, first: date, last: date):
        spans = []
        day = first
        while day <= last:
            spans.extend(calendar.spans_on(day))
            day += timedelta(days=1)
        self.opens = np.array([opens.timestamp() for opens, _ in spans])
        closes = np.array([closes.timestamp() for _, closes in spans])
        self.closes = closes
        lengths = closes - self.opens
        self.after = np.cumsum(lengths)
        self.before = self.after - lengths

    def add(self, start: np.ndarray, hours: np.ndarray) -> np.ndarray:
        """When `hours` business hours have elapsed after each `start` (epoch seconds); NaN
        past the last day known."""
        start = np.asarray(start, dtype=float)
        k = np.minimum(np.searchsorted(self.closes, start, side="right"), len(self.closes) - 1)
        elapsed = self.before[k] + np.clip(start - self.opens[k], 0, None)
        target = elapsed + np.asarray(hours, dtype=float) * 3600
        j = np.searchsorted(self.after, target, side="left")
        inside = (j < len(self.after)) & np.isfinite(target)
        j = np.minimum(j, len(self.after) - 1)
        return np.where(inside, self.opens[j] + (target - self.before[j]), np.nan)


@dataclass
class Route:
    department_id: int
    zone_id: int | None
    text: str
    data: dict


@dataclass
class Staff:
    """Who acts on a department's tickets in the history: an agent (or whoever there is)."""

    actor_id: int | None
    label: str
    assignees: list[int]
    managers: list[str]


class CityPlan:
    """What the seed draws from: the city's categories, a pool of points inside its limits with
    their zones, the routing decision of every category in every zone, the staff, the clock."""

    def __init__(self, city: City):
        self.city = city

    @classmethod
    def build(cls, city: City, rng: np.random.Generator, start: float, end: float):
        plan = cls(city)
        plan._categories()
        plan._points(rng)
        plan._routes()
        plan._staff()
        calendar = BusinessCalendar.for_city(city)
        first = datetime.fromtimestamp(start, UTC).date() - timedelta(days=1)
        last = datetime.fromtimestamp(end, UTC).date() + timedelta(days=400)
        plan.clock = BusinessClock(calendar, first, last)
        check_clock(plan.clock, calendar, rng, start, end)
        plan.start, plan.end = start, end
        plan.external_id = db.session.scalar(
            sa.select(Department.id).where(Department.city_id == city.id, Department.is_external)
        )
        return plan

    def summary(self) -> str:
        return (
            f"{len(self.categories)} categories, {len(self.zone_ids)} zones, "
            f"a pool of {len(self.lats):,} points inside the city"
        )

    def _categories(self) -> None:
        self.categories = db.session.scalars(
            sa.select(Category)
            .where(Category.city_id == self.city.id, Category.is_active)
            .order_by(Category.position, Category.id)
        ).all()
        weights = np.array([CATEGORY_WEIGHTS.get(c.code, 1.0) for c in self.categories])
        self.category_p = weights / weights.sum()

    def _points(self, rng: np.random.Generator, size: int = 200_000) -> None:
        """A pool of points inside the city limits, each in its zone, weighted so that a few
        busy places (a station, a market) get more reports than quiet streets."""
        boundary = shape(self.city.boundary)
        min_lon, min_lat, max_lon, max_lat = boundary.bounds
        lons, lats = np.empty(0), np.empty(0)
        while len(lons) < size:
            x = rng.uniform(min_lon, max_lon, size)
            y = rng.uniform(min_lat, max_lat, size)
            inside = shapely.contains_xy(boundary, x, y)
            lons, lats = np.concatenate([lons, x[inside]]), np.concatenate([lats, y[inside]])
        self.lons, self.lats = np.round(lons[:size], 6), np.round(lats[:size], 6)
        zones = db.session.execute(
            sa.select(Zone.id, Zone.boundary).where(Zone.city_id == self.city.id).order_by(Zone.id)
        ).all()
        self.zone_ids = [zone_id for zone_id, _ in zones]
        self.point_zone = np.zeros(size, dtype=np.int64)  # 0: in no zone
        for zone_id, geojson in zones:  # lowest id first, as zone_id_at decides on a border
            free = self.point_zone == 0
            self.point_zone[free & shapely.contains_xy(shape(geojson), self.lons, self.lats)] = (
                zone_id
            )
        hotspots = rng.choice(size, 30, replace=False)
        weights = np.ones(size)
        for spot in hotspots:  # about 150 m around each busy place
            d2 = ((self.lons - self.lons[spot]) * 66_000) ** 2 + (
                (self.lats - self.lats[spot]) * 111_000
            ) ** 2
            weights += 6 * np.exp(-d2 / (2 * 150**2))
        self.point_p = weights / weights.sum()

    def _routes(self) -> None:
        """The city's routing for every category in every zone (and without a position), by
        the routing service itself, at a point of that zone."""
        self.routes: dict[tuple[int, int], Route] = {}
        for category in self.categories:
            for zone_id in [*self.zone_ids, 0]:
                if zone_id:
                    at = int(np.flatnonzero(self.point_zone == zone_id)[0])
                    routing = route(self.city, category, self.lats[at], self.lons[at])
                else:
                    routing = route(self.city, category, None, None)
                self.routes[category.id, zone_id] = Route(
                    routing.department.id,
                    routing.zone.id if routing.zone else None,
                    "",  # the decision is data, said in the reader's language (reports.history)
                    {"routing": routing.data},
                )

    def _staff(self) -> None:
        users = db.session.scalars(
            sa.select(User).where(User.city_id == self.city.id).order_by(User.id)
        ).all()
        admin = next((u for u in users if u.role == Role.ADMIN), None)
        self.staff: dict[int, Staff] = {}
        departments = db.session.scalars(
            sa.select(Department).where(Department.city_id == self.city.id)
        ).all()
        for department in departments:
            members = [u for u in users if u.department_id == department.id]
            agents = [u for u in members if u.role == Role.AGENT] or members
            actor = agents[0] if agents else admin
            managers = [u.email for u in members if u.role == Role.MANAGER]
            self.staff[department.id] = Staff(
                actor.id if actor else None,
                (actor.name or actor.email) if actor else "system",
                [u.id for u in members],
                managers,
            )


def check_clock(clock, calendar, rng, start: float, end: float) -> None:
    """The bulk deadlines must be the calendar's own: compare a sample."""
    starts = rng.uniform(start, end, 200)
    hours = rng.choice([4, 8, 16, 40, 80, 160], 200)
    bulk = clock.add(starts, hours)
    for moment, target, got in zip(starts, hours, bulk, strict=True):
        expected = calendar.add_business_hours(datetime.fromtimestamp(moment, UTC), float(target))
        if abs(expected.timestamp() - got) > 0.001:
            raise AssertionError(f"business clock off at {moment}+{target}h: {got} {expected}")


def as_datetime(seconds: float | None) -> datetime | None:
    if seconds is None or math.isnan(seconds):
        return None
    return datetime.fromtimestamp(round(seconds, 6), UTC)


@dataclass
class Draws:
    """The random draws of a batch, as plain lists (one item per report)."""

    created: list
    category: list
    point: list
    source: list
    u: np.ndarray  # uniform draws for the small decisions, a row per report
    ending: list
    close_at: list
    ack_at: list
    at_risk_at: list
    due_at: list


class Seeder:
    """Draws the reports batch by batch and writes them with their events and supports."""

    def __init__(self, plan: CityPlan, rng: np.random.Generator, count: int, now: float):
        self.plan, self.rng, self.count, self.now = plan, rng, count, now
        self.created = self._creation_times(count)
        self.next_id = {
            table: (db.session.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1
            for table in (Report.__table__, ReportEvent.__table__, Support.__table__)
        }
        self.numbers = self._sequence()
        self.last_original: dict[int, int] = {}  # category id → a recent report that is no dup

    def _creation_times(self, count: int) -> np.ndarray:
        """Creation instants, sorted: more reports as the service gets known (twice as many a
        day at the end as at the start), by the hour of the day people report at."""
        plan, rng = self.plan, self.rng
        days = (plan.end - plan.start) / 86400
        # density growing linearly from 2/3 to 4/3: inverse of its cumulative distribution
        u = rng.uniform(0, 1, count)
        a, b = 2 / 3, 2 / 3
        x = (-a + np.sqrt(a * a + 2 * b * u)) / b  # share of the span, 0..1
        day = np.floor(x * days)
        hours = np.array(HOURLY_WEIGHTS, dtype=float)
        hour = rng.choice(24, count, p=hours / hours.sum())
        local = plan.start + day * 86400 + hour * 3600 + rng.uniform(0, 3600, count)
        created = np.sort(local - 3600)  # Paris is UTC+1 (+2 in summer): close enough here
        return np.clip(created, plan.start, self.now - 1)

    def _sequence(self) -> dict[int, int]:
        rows = db.session.execute(
            sa.select(ReportSequence.year, ReportSequence.last_number).where(
                ReportSequence.city_id == self.plan.city.id
            )
        )
        return defaultdict(int, dict(rows.all()))

    def run(self, batch_size: int) -> tuple[dict[str, int], dict[str, float]]:
        """Write every batch, one transaction each. The next batch is drawn in a thread while
        the database writes this one, so that Python's work and the database's overlap."""
        counts, seconds = defaultdict(int), defaultdict(float)
        starts = list(range(0, len(self.created), batch_size))
        with ThreadPoolExecutor(max_workers=1) as pool, db.engine.connect() as connection:
            tune(connection)
            pending = pool.submit(self._timed_batch, starts[0], batch_size) if starts else None
            for k in range(len(starts)):
                rows, took = pending.result()
                seconds["generating"] += took
                if k + 1 < len(starts):
                    pending = pool.submit(self._timed_batch, starts[k + 1], batch_size)
                self._write(connection, rows, counts, seconds)
                progress(starts[k] + len(rows[0]), len(self.created), counts)
        print(file=sys.stderr)
        return counts, seconds

    def _timed_batch(self, start: int, size: int) -> tuple[tuple[list, list, list], float]:
        began = time.perf_counter()
        rows = self._batch(self.created[start : start + size])
        return rows, time.perf_counter() - began

    @staticmethod
    def _write(connection, rows, counts: dict, seconds: dict) -> None:
        tables = (Report.__table__, ReportEvent.__table__, Support.__table__)
        for table, table_rows in zip(tables, rows, strict=True):
            began = time.perf_counter()
            if table_rows:
                connection.execute(table.insert(), table_rows)
            seconds[table.name] += time.perf_counter() - began
            counts[table.name] += len(table_rows)
        began = time.perf_counter()
        connection.commit()
        seconds["commits"] += time.perf_counter() - began

    def _draws(self, created: np.ndarray) -> Draws:
        plan, rng, n = self.plan, self.rng, len(created)
        category = rng.choice(len(plan.categories), n, p=plan.category_p)
        sla = np.array([plan.categories[c].sla_hours or np.nan for c in category], dtype=float)
        is_idea = np.array([plan.categories[c].kind == Kind.SUGGESTION for c in category])
        # Business hours until the report is closed: about 60 % of the SLA, a long tail.
        close_hours = rng.lognormal(np.log(np.nan_to_num(sla, nan=40) * 0.6), 1.0)
        close_hours[is_idea] = rng.lognormal(np.log(600), 0.8, is_idea.sum())
        close_hours[rng.uniform(0, 1, n) < STUCK_SHARE] = np.inf
        ack_hours = np.minimum(rng.lognormal(np.log(3), 1.0, n), close_hours * 0.5)
        at_risk = plan.clock.add(created, sla * AT_RISK_SHARE)
        endings = [
            self._ending(plan.categories[c], r)
            for c, r in zip(category, rng.uniform(0, 1, n), strict=True)
        ]
        return Draws(
            created=created.tolist(),
            category=category.tolist(),
            point=rng.choice(len(plan.lats), n, p=plan.point_p).tolist(),
            source=rng.choice(list(SOURCES), n, p=list(SOURCES.values())).tolist(),
            u=rng.uniform(0, 1, (n, 8)),
            ending=endings,
            close_at=plan.clock.add(created, close_hours).tolist(),
            ack_at=plan.clock.add(created, ack_hours).tolist(),
            at_risk_at=at_risk.tolist(),
            due_at=plan.clock.add(created, sla).tolist(),
        )

    def _ending(self, category: Category, u: float) -> Status:
        endings = IDEA_ENDINGS if category.kind == Kind.SUGGESTION else PROBLEM_ENDINGS
        if category.code == "bus-shelter" and u < 0.4 and self.plan.external_id:
            return Status.REFERRED
        for status, share in endings.items():
            if u < share:
                return status
            u -= share
        return next(iter(endings))

    def _batch(self, created: np.ndarray) -> tuple[list, list, list]:
        draws = self._draws(created)
        reports, events, supports = [], [], []
        for i in range(len(created)):
            report = self._report(draws, i)
            history = self._history(report, draws, i)
            self._finish_report(report, history, draws.u[i])
            supports.extend(self._supports(report, draws.u[i]))
            for key in PRIVATE_KEYS:
                del report[key]
            reports.append(report)
            events.extend(history)
        return reports, events, supports

    def _report(self, draws: Draws, i: int) -> dict:
        plan, u = self.plan, draws.u[i]
        category = plan.categories[draws.category[i]]
        created = draws.created[i]
        is_idea = category.kind == Kind.SUGGESTION
        point = draws.point[i]
        has_position = not is_idea or u[0] < 0.5
        lat = float(plan.lats[point]) if has_position else None
        lon = float(plan.lons[point]) if has_position else None
        zone_key = int(plan.point_zone[point]) if has_position else 0
        routing = plan.routes[category.id, zone_key]
        source = draws.source[i]
        report_id = self._take_id(Report.__table__)
        return {
            "id": report_id,
            "city_id": plan.city.id,
            "reference": self._reference(created),
            "kind": category.kind,
            "category_id": category.id,
            "status": Status.NEW,
            "priority": category.default_priority if u[1] > 0.05 else 1 + int(u[1] * 80),
            "department_id": routing.department_id,
            "assignee_id": None,
            "zone_id": routing.zone_id,
            "lat": lat,
            "lon": lon,
            "address": f"{1 + int(u[2] * 120)} {STREETS[int(u[3] * len(STREETS))]}"
            if has_position
            else "",
            "description": self._text(category, u),
            "attributes": self._attributes(category, u) or None,
            "at_risk_at": as_datetime(draws.at_risk_at[i]),
            "due_at": as_datetime(draws.due_at[i]),
            "escalated_at": None,
            "support_count": 0,
            "duplicate_of_id": None,
            "referred_to_id": None,
            "close_reason": None,
            "source": source,
            "external_id": None,
            "idempotency_key": f"api:seed-{report_id}" if source == Source.API else None,
            "reporter_id": None,
            "reporter_name": "Habitant·e" if u[4] < 0.4 else None,
            "reporter_email": f"resident{report_id % 50_000}@example.org" if u[4] < 0.6 else None,
            "reporter_phone": "06 12 34 56 78" if u[4] < 0.15 else None,
            "notify_reporter": u[5] > 0.05,
            "locale": "fr" if u[5] < 0.85 else "en",
            "is_hidden": u[6] < 0.003,
            "created_at": as_datetime(created),
            "updated_at": as_datetime(created),
            "acknowledged_at": None,
            "resolved_at": None,
            "closed_at": None,
            "confirmed_at": None,
            # not columns (PRIVATE_KEYS): what the history needs
            "_category": category,
            "_routing": routing,
            "_actor": ACTOR_LABELS[source],
        }

    def _take_id(self, table: sa.Table) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def _reference(self, created: float) -> str:
        year = datetime.fromtimestamp(created + 3600, UTC).year  # local (winter) time's year
        self.numbers[year] += 1
        return f"{self.plan.city.reference_prefix}-{year}-{self.numbers[year]:06d}"

    @staticmethod
    def _text(category: Category, u) -> str:
        texts = IDEA_TEXTS if category.kind == Kind.SUGGESTION else TEXTS.get(category.code)
        texts = texts or DEFAULT_TEXTS
        return texts[int(u[7] * len(texts))] + EXTRA_SENTENCES[int(u[6] * 1000) % 4]

    @staticmethod
    def _attributes(category: Category, u) -> dict:
        answers = {}
        for attribute in category.attributes or []:
            if not attribute.get("required") and u[5] > 0.6:
                continue
            if attribute.get("datatype") == "singlevaluelist":
                values = attribute["values"]
                answers[attribute["code"]] = values[int(u[7] * len(values))]["key"]
            else:
                answers[attribute["code"]] = f"{attribute['code'][:2].upper()}-{int(u[2] * 9999)}"
        return answers

    def _history(self, report: dict, draws: Draws, i: int) -> list[dict]:
        """The report's events, ending at the present, and its fields set accordingly."""
        routing, created = report["_routing"], draws.created[i]
        events = [
            self._event(
                report,
                EventType.CREATED,
                created,
                text=routing.text,
                data=routing.data,
                actor_label=report["_actor"],
            )
        ]
        ending, u = draws.ending[i], draws.u[i]
        close_at, ack_at = draws.close_at[i], draws.ack_at[i]
        if math.isnan(close_at):  # never closed (stuck, or beyond the days known)
            close_at = math.inf
        if report["kind"] == Kind.SUGGESTION:
            moves = self._idea_moves(ending, created, close_at, u)
        else:
            moves = self._problem_moves(report, ending, created, ack_at, close_at, u)
        staff = self.plan.staff.get(report["department_id"])
        status = Status.NEW
        for at, to_status in moves:
            if at > self.now:
                break
            events.append(self._move(report, staff, status, to_status, at, u))
            status = to_status
        report["status"] = status
        return events

    @staticmethod
    def _problem_moves(report, ending, created, ack_at, close_at, u) -> list:
        if ending == Status.DUPLICATE:  # spotted early, by the triage
            return [(created + 3600 * (1 + 20 * u[3]), Status.DUPLICATE)]
        ack_at = min(ack_at, close_at) if not math.isnan(ack_at) else close_at
        moves = []
        path = u[4]
        if ending != Status.RESOLVED or path < 0.85:
            moves.append((ack_at, Status.ACKNOWLEDGED))
        if ending == Status.RESOLVED and path < 0.6:
            if math.isinf(close_at):
                moves.append((ack_at + 86400 * (1 + 10 * u[5]), Status.IN_PROGRESS))
            else:
                moves.append(
                    (ack_at + (close_at - ack_at) * (0.2 + 0.5 * u[5]), Status.IN_PROGRESS)
                )
        moves.append((close_at, ending))
        return moves

    @staticmethod
    def _idea_moves(ending, created, close_at, u) -> list:
        review = created + 86400 * (2 + 10 * u[3])
        if ending in (Status.REJECTED, Status.DUPLICATE):
            return [(created + 3600 * (2 + 30 * u[3]), ending)]
        moves = [(review, Status.UNDER_REVIEW)]
        if ending == Status.UNDER_REVIEW:
            return moves
        decided = max(close_at, review + 86400) if not math.isinf(close_at) else review + 86400 * 30
        if ending == Status.DECLINED:
            return [*moves, (decided, Status.DECLINED)]
        moves.append((decided, Status.PLANNED))
        if ending == Status.DONE:
            moves.append((decided + 86400 * (30 + 200 * u[5]), Status.DONE))
        return moves

    def _move(self, report: dict, staff: Staff | None, from_status, to_status, at, u) -> dict:
        """Apply one status change to the report's fields, as `transition` does, and give its
        event."""
        moment = as_datetime(at)
        if report["acknowledged_at"] is None:
            report["acknowledged_at"] = moment
        if to_status in (Status.RESOLVED, Status.DONE):
            report["resolved_at"] = moment
        data = None
        if to_status not in OPEN_STATUSES:
            report["closed_at"] = moment
            data = self._closing(report, to_status, u)
        if to_status == Status.ACKNOWLEDGED and staff and staff.assignees and u[6] < 0.6:
            report["assignee_id"] = staff.assignees[int(u[6] * 1000) % len(staff.assignees)]
        report["updated_at"] = moment
        return self._event(
            report,
            EventType.STATUS_CHANGE,
            at,
            from_value=from_status,
            to_value=to_status,
            text=MOVE_TEXTS.get(to_status, ""),
            data=data,
            is_public=True,
            actor_id=staff.actor_id if staff else None,
            actor_label=staff.label if staff else "system",
        )

    def _closing(self, report: dict, to_status: Status, u) -> dict | None:
        category_id = report["category_id"]
        if to_status == Status.DUPLICATE:
            original = self.last_original.get(category_id)
            if original is None:  # the first of its category: nothing to duplicate yet
                original = report["id"] - 1 if report["id"] > 1 else None
            report["duplicate_of_id"] = original
            return {"duplicate_of": original}
        if to_status == Status.REFERRED:
            report["referred_to_id"] = self.plan.external_id
            return {"referred_to": self.plan.external_id}
        if to_status in REASON_CODES:
            codes = REASON_CODES[to_status]
            reason = codes[int(u[7] * len(codes))]
            report["close_reason"] = reason
            return {"reason": reason}
        return None

    def _event(self, report: dict, type_: str, at: float, **fields) -> dict:
        return {
            "id": self._take_id(ReportEvent.__table__),
            "report_id": report["id"],
            "type": type_,
            "actor_id": fields.get("actor_id"),
            "actor_label": fields.get("actor_label", ""),
            "from_value": fields.get("from_value"),
            "to_value": fields.get("to_value"),
            "text": fields.get("text", ""),
            "data": fields.get("data"),
            "is_public": fields.get("is_public", False),
            "is_hidden": False,
            "created_at": as_datetime(at),
        }

    def _finish_report(self, report: dict, history: list[dict], u) -> None:
        """Escalation of an overdue ticket, the reporter's confirmation, a valid duplicate."""
        due = report["due_at"]
        end = report["closed_at"] or as_datetime(self.now)
        if due is not None and due < end:
            escalated = due + timedelta(seconds=30 + 90 * u[2])
            if escalated.timestamp() <= self.now:
                report["escalated_at"] = escalated
                staff = self.plan.staff.get(report["department_id"])
                history.append(
                    self._event(
                        report,
                        EventType.ESCALATION,
                        escalated.timestamp(),
                        data={  # the format reports.history says in the reader's language
                            "message": "escalation",
                            "due_at": due.isoformat(),
                            "contacts": staff.managers if staff else [],
                            "via": "managers",
                        },
                        actor_label="SLA escalation",
                    )
                )
        resolved = report["resolved_at"]
        if report["status"] == Status.RESOLVED and u[3] < 0.1:
            confirmed = resolved.timestamp() + 86400 * (0.1 + 20 * u[5])
            if confirmed <= self.now:
                report["confirmed_at"] = as_datetime(confirmed)
                history.append(
                    self._event(
                        report,
                        EventType.CONFIRMATION,
                        confirmed,
                        actor_label="reporter",
                        is_public=True,
                    )
                )
        if report["status"] == Status.DUPLICATE and report["duplicate_of_id"] is None:
            report["status"] = Status.NOT_ACTIONABLE  # the very first report cannot duplicate
            report["close_reason"] = "other"
        if report["status"] != Status.DUPLICATE:
            self.last_original[report["category_id"]] = report["id"]
        # The timeline is read in id order: give the events their ids in time order.
        ids = sorted(event["id"] for event in history)
        history.sort(key=lambda event: (event["created_at"], event["id"]))
        for event, event_id in zip(history, ids, strict=True):
            event["id"] = event_id

    def _supports(self, report: dict, u) -> list[dict]:
        """ "Me too"s while the report is open (votes for ideas), counted in support_count."""
        is_idea = report["kind"] == Kind.SUGGESTION
        if is_idea:
            count = int(-math.log(1 - u[1] * 0.999) * 12)
        elif u[1] < 0.25 and report["status"] != Status.REJECTED:
            count = int(-math.log(1 - u[2] * 0.999) * 2.5)
        else:
            count = 0
        created = report["created_at"].timestamp()
        end = (report["closed_at"] or as_datetime(self.now)).timestamp()
        report["support_count"] = count
        rows = []
        for n in range(count):
            rows.append(
                {
                    "id": self._take_id(Support.__table__),
                    "report_id": report["id"],
                    "user_id": None,
                    "supporter_key": os.urandom(32).hex(),
                    "created_at": as_datetime(created + (end - created) * ((n + 1) / (count + 1))),
                }
            )
        return rows


def tune(connection) -> None:
    """A big page cache for SQLite's index updates (this connection only)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA cache_size = -500000")  # 500 MB


def progress(done: int, total: int, counts: dict) -> None:
    if sys.stderr.isatty() or done == total or done % 100_000 < 10_000:
        rows = ", ".join(f"{n:,} {name}" for name, n in counts.items())
        print(f"\r  {done:,}/{total:,} reports ({rows})", end="", file=sys.stderr, flush=True)


def finish(plan: CityPlan, seeder: Seeder, analyze: bool) -> float:
    """Set the reference sequence of each year and the id sequences; make the statistics'
    per-day aggregates (tellcity.stats.daily); refresh the planner's statistics (PostgreSQL
    always, as autovacuum would; SQLite with --analyze)."""
    began = time.perf_counter()
    table = ReportSequence.__table__
    with db.engine.begin() as connection:
        for year, number in seeder.numbers.items():  # they went on from the sequence's numbers
            updated = connection.execute(
                table.update()
                .where(table.c.city_id == plan.city.id, table.c.year == year)
                .values(last_number=number)
            )
            if updated.rowcount == 0:
                connection.execute(
                    table.insert().values(city_id=plan.city.id, year=year, last_number=number)
                )
        if connection.dialect.name == "postgresql":
            for name in ("reports", "report_events", "supports"):
                connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT max(id) FROM {name}))"
                )
    with db.engine.begin() as connection:  # the rows went in without the statistics' upserts
        daily.rebuild(connection, plan.city.id)
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    elif analyze:
        with db.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    return time.perf_counter() - began


def report_rates(counts: dict, seconds: dict, finish_seconds: float, total: float) -> None:
    rows = sum(counts.values())
    inserting = sum(s for name, s in seconds.items() if name in counts) + seconds["commits"]
    print(f"{'table':<16}{'rows':>12}{'insert s':>10}{'rows/s':>10}")
    for name, n in counts.items():
        print(f"{name:<16}{n:>12,}{seconds[name]:>10.1f}{n / max(seconds[name], 1e-9):>10,.0f}")
    print(f"{'all':<16}{rows:>12,}{inserting:>10.1f}{rows / inserting:>10,.0f}  (with commits)")
    print(
        f"generating {seconds['generating']:.1f} s (beside the writes), sequences and statistics "
        f"{finish_seconds:.1f} s; total {total:.1f} s: {rows / total:,.0f} rows/s, "
        f"{counts['reports'] / total:,.0f} reports/s overall"
    )


if __name__ == "__main__":
    sys.exit(main())
