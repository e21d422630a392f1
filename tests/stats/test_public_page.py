"""The public statistics page, GET /stats: anyone reads it without signing in; its figures are
those of the public reports (as the public lists count them) and each equals what the test
works out by hand from the reports it files; nothing on it is about one report or person."""

import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tellcity.core.db import utcnow
from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.notify.worker import run_worker
from tellcity.reports import services as report_services
from tellcity.reports.models import Report
from tellcity.reports.states import OPEN_STATUSES
from tellcity.stats import services
from tellcity.stats.models import StatsSnapshot
from tellcity.stats.periods import last_month, local_midnight, local_today, months_before
from tests.stats.helpers import RIVERSIDE, move, report

PARIS = ZoneInfo("Europe/Paris")
PRIVATE = {
    "reporter_name": "Zqxreporter Privatename",
    "reporter_email": "zqx.private@example.org",
    "reporter_phone": "+33 6 12 34 98 76",
}
NOTE = "ZQXNOTE internal only"
STAFF_NAME = "Zqxstaff Agentname"


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


@dataclass
class Filed:
    """A report the test files: its category, when it was created, its moves (status, when,
    options) in order, whether a moderator hid it; and, once filed, the report."""

    category: str
    created: datetime
    moves: list[tuple[str, datetime, dict]] = field(default_factory=list)
    is_hidden: bool = False
    report: Report | None = None

    @property
    def status(self) -> str:
        return self.moves[-1][0] if self.moves else "new"

    @property
    def is_public(self) -> bool:
        return not self.is_hidden and self.status != "rejected"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def answered(self) -> datetime | None:
        """The department's first answer: its first move out of new."""
        return self.moves[0][1] if self.moves else None

    @property
    def closed(self) -> datetime | None:
        return None if self.is_open else self.moves[-1][1]


def this_month(fraction: float, now: datetime | None = None) -> datetime:
    """A moment of this month, at `fraction` of the time from its start to `now`: in the past
    and in this month whatever the day."""
    now = now or utcnow()
    start = local_midnight(local_today("Europe/Paris", now).replace(day=1), PARIS)
    return start + (now - start) * fraction


def month_of(moment: datetime):
    return moment.astimezone(PARIS).date().replace(day=1)


def file_all(city, staff, reports: list[Filed]) -> list[Filed]:
    actor = staff["admin"]
    actor.name = STAFF_NAME
    for filed in reports:
        filed.report = report(city, filed.category, created=filed.created, **PRIVATE)
        report_services.add_note(filed.report, NOTE, Actor.of(actor))
        for status, at, options in filed.moves:
            move(filed.report, status, actor, at, **options)
        filed.report.is_hidden = filed.is_hidden
    db.session.commit()
    return reports


@pytest.fixture
def year(demo_city, staff) -> list[Filed]:
    """Reports of this month (at fractions of the time elapsed since it began, so that all are
    in the past whatever the day), of last month, of five months ago and of 14 months ago:
    some hidden or rejected, some closed in the month after the one they were filed in."""
    now = utcnow()
    today = local_today("Europe/Paris", now)

    def this(fraction: float) -> datetime:
        return this_month(fraction, now)

    def local(month, day: int, hour: int) -> datetime:
        return datetime(month.year, month.month, day, hour, tzinfo=PARIS).astimezone(UTC)

    previous = last_month("Europe/Paris", now)
    five_ago = months_before(today, 5)
    d = Filed("street-light", this(0.30))
    c = Filed("street-light", this(0.25), [("acknowledged", this(0.35), {})])
    reports = [
        Filed(
            "pothole", this(0.10), [("acknowledged", this(0.15), {}), ("resolved", this(0.3), {})]
        ),
        Filed("pothole", this(0.20), [("acknowledged", this(0.40), {})]),
        c,
        d,
        Filed(
            "pothole",
            this(0.40),
            [("acknowledged", this(0.45), {}), ("resolved", this(0.9), {})],
            is_hidden=True,
        ),
        Filed("pothole", this(0.45), [("rejected", this(0.50), {"reason": "spam"})]),
        Filed(
            "pothole",
            local(previous, 3, 10),
            [
                ("acknowledged", local(previous, 3, 12), {}),
                ("resolved", local(previous, 5, 10), {}),
            ],
        ),
        Filed(
            "street-light", local(previous, 10, 9), [("acknowledged", local(previous, 11, 9), {})]
        ),
        Filed(
            "pothole",
            local(previous, 20, 8),
            [("acknowledged", local(previous, 21, 8), {}), ("resolved", this(0.60), {})],
        ),
        Filed("street-light", local(previous, 12, 9), is_hidden=True),
        Filed(
            "graffiti",
            local(five_ago, 15, 10),
            [
                ("acknowledged", local(five_ago, 16, 10), {}),
                ("resolved", local(five_ago, 25, 10), {}),
            ],
        ),
        Filed("pothole", local(months_before(today, 14), 15, 10)),
    ]
    # d, a duplicate of c, is filed after it
    file_all(demo_city, staff, reports[:3])
    d.moves = [("duplicate", this(0.50), {"duplicate_of": c.report})]
    file_all(demo_city, staff, reports[3:])
    return reports


class Tables(HTMLParser):
    """The body rows of each table of a page, by the table's id: each row a list of its cells,
    a cell being its data-value when it has one, else its text."""

    def __init__(self, html: str):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table = self._cell = None
        self._in_body = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = self.tables.setdefault(attrs.get("id", ""), [])
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self._table.append([])
        elif tag in ("td", "th") and self._in_body:
            self._cell = [attrs.get("data-value")]

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            value, *text = self._cell
            self._table[-1].append(value if value is not None else "".join(text).strip())
            self._cell = None
        elif tag == "tbody":
            self._in_body = False


def page(client) -> tuple[str, dict]:
    response = client.get("/stats")
    assert response.status_code == 200
    return response.text, Tables(response.text).tables


def count(reports, when, month) -> int:
    return sum(1 for filed in reports if when(filed) and month_of(when(filed)) == month)


def test_every_figure_is_that_of_the_public_reports(client, demo_city, year):
    html, tables = page(client)
    public = [filed for filed in year if filed.is_public]
    today = local_today("Europe/Paris")
    current, previous = today.replace(day=1), last_month("Europe/Paris")

    def received(filed):
        return filed.created

    def closed(filed):
        return filed.closed

    def resolved(filed):
        return filed.closed if filed.status == "resolved" else None

    # This month and last month, and what is open now (whenever it was filed).
    assert tables["volumes-table"] == [
        ["Received", *[str(count(public, received, month)) for month in (current, previous)]],
        ["Resolved", *[str(count(public, resolved, month)) for month in (current, previous)]],
        ["Closed", *[str(count(public, closed, month)) for month in (current, previous)]],
    ]
    assert tables["volumes-table"][0][1:] == ["4", "3"]  # the hidden and the rejected left out
    backlog = sum(1 for filed in public if filed.is_open)
    assert backlog == 4
    assert f'<strong class="figure-value" id="backlog">{backlog}</strong>' in html

    # Per month over the last 12 months, oldest first.
    months = [months_before(today, back) for back in range(11, -1, -1)]
    assert [row[1:] for row in tables["series-table"]] == [
        [str(count(public, received, month)), str(count(public, closed, month))] for month in months
    ]
    assert len(tables["series-table"]) == 12
    assert tables["series-table"][-1][0] == today.strftime("%B %Y")

    # Median times per department, over reports of the last 12 months.
    first = local_midnight(months[0], PARIS)
    recent = [filed for filed in public if filed.created >= first]
    closed_recently = [filed for filed in public if filed.closed and filed.closed >= first]
    expected = []
    for department in {filed.report.department for filed in recent + closed_recently}:
        mine = [filed for filed in recent if filed.report.department == department]
        shut = [filed for filed in closed_recently if filed.report.department == department]
        answers = [(f.answered - f.created).total_seconds() for f in mine if f.answered]
        closings = [(f.closed - f.created).total_seconds() for f in shut]
        expected.append(
            (
                department.name,
                len(mine),
                len(shut),
                statistics.median(answers) if answers else None,
                statistics.median(closings) if closings else None,
            )
        )
    shown = [
        (name, int(received_), int(closed_), seconds(answer), seconds(closing))
        for name, received_, closed_, answer, closing in tables["departments-table"]
    ]
    assert len(shown) == len(expected) == 3  # roads, lighting, buildings (graffiti)
    for got, wanted in zip(sorted(shown), sorted(expected), strict=True):
        assert got[:3] == wanted[:3]
        for duration, median in zip(got[3:], wanted[3:], strict=True):
            assert duration == median or abs(duration - median) < 0.01, (got, wanted)

    # The busiest categories of the 12 months, with their share.
    names = {filed.category: filed.report.category.name("en") for filed in recent}
    counts = {code: sum(1 for f in recent if f.category == code) for code in names}
    busiest = sorted(counts, key=lambda code: (-counts[code], names[code]))
    assert [row[:2] for row in tables["top-categories-table"]] == [
        [names[code], str(counts[code])] for code in busiest
    ]
    share = 100 * counts[busiest[0]] / len(recent)
    assert (share, tables["top-categories-table"][0][2]) == (50, "50%")  # potholes: 4 of 8


def seconds(cell: str) -> float | None:
    return None if cell == "—" else float(cell)


def test_nothing_about_a_person_or_one_report(client, demo_city, year):
    html, _tables = page(client)
    for marker in (*PRIVATE.values(), "98 76", NOTE, STAFF_NAME):
        assert marker not in html
    for filed in year:
        assert filed.report.reference not in html
        assert f"{filed.report.lat:.4f}" not in html
    # The open data, with every public report, is one link away.
    for link in ("/open-data/reports.csv", "/open-data/reports.geojson", "/feeds/reports.atom"):
        assert f'href="{link}"' in html


def test_a_hidden_report_is_not_counted(app, client, login_as, demo_city):
    app.config["STATS_CACHE_SECONDS"] = 0  # no snapshot: the figures of each request
    report(demo_city, created=this_month(0.5))
    hidden = report(demo_city, at=RIVERSIDE, created=this_month(0.6))
    hidden.is_hidden = True
    db.session.commit()
    html, tables = page(client)
    assert tables["volumes-table"][0][1] == tables["series-table"][-1][1] == "1"
    assert '<strong class="figure-value" id="backlog">1</strong>' in html
    # The mayor's office counts it: it was received, and is still to be handled.
    login_as("cabinet")
    assert client.get("/api/v1/stats").json["totals"]["received"] == 2


def test_a_city_with_no_report(client, demo_city):
    html, tables = page(client)
    assert "Issy-les-Moulineaux in figures" in html
    assert [row[1:] for row in tables["volumes-table"]] == [["0", "0"]] * 3
    assert [row[1:] for row in tables["series-table"]] == [["0", "0"]] * 12
    assert tables["departments-table"] == [["Nothing in this range."]]
    assert tables["top-categories-table"] == [["Nothing in this range."]]
    assert '<strong class="figure-value" id="backlog">0</strong>' in html


def test_anyone_reads_it_and_any_cache_may_keep_it_a_minute(client, login_as, demo_city):
    response = client.get("/stats")
    assert response.status_code == 200
    assert response.cache_control.public and response.cache_control.max_age == 60
    assert {"Cookie", "Accept-Language"} <= set(response.vary)
    assert "Set-Cookie" not in response.headers
    # The public site's navigation leads to it.
    assert 'href="/stats"' in client.get("/").text
    # A signed-in user's page (with their own sign-out form) is for their browser only.
    login_as("resident")
    response = client.get("/stats")
    assert response.status_code == 200
    assert response.cache_control.private and not response.cache_control.public


def test_in_french(client, demo_city):
    client.set_cookie("lang", "fr")
    html = client.get("/stats").text
    assert "Issy-les-Moulineaux en chiffres" in html
    assert "Délai médian de prise en compte" in html


def test_no_city_configured(app, client):
    assert client.get("/stats").status_code == 404


def test_the_worker_keeps_the_public_page_computed(app, client, demo_city):
    run_worker(app, once=True)
    warmed = snapshots()
    assert [key for key in warmed if key.endswith("&public=1")] == sorted(
        filters.cache_key() for filters in services.public_views(demo_city)
    )
    report(demo_city, created=this_month(0.5))
    db.session.commit()
    # The page reads the worker's figures (computed before the report was filed): no resident
    # waits for them to be computed.
    html, tables = page(client)
    assert tables["volumes-table"][0][1] == "0"
    assert snapshots() == warmed
    as_of = min(warmed.values()).astimezone(PARIS).strftime("%H:%M")
    assert f"Figures as of {as_of}." in html
    # The worker recomputes them before they expire.
    lifetime = app.config["STATS_CACHE_SECONDS"]
    for snapshot in db.session.scalars(sa.select(StatsSnapshot)):
        snapshot.computed_at -= timedelta(seconds=lifetime - 60)
    db.session.commit()
    run_worker(app, once=True)
    assert page(client)[1]["volumes-table"][0][1] == "1"


def snapshots() -> dict:
    """When the figures of each kept selection were computed, by key."""
    db.session.expire_all()
    rows = db.session.execute(sa.select(StatsSnapshot.key, StatsSnapshot.computed_at))
    return dict(sorted(rows.all()))
