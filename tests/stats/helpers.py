"""Reports made at chosen moments through the real services, and the statistics read back."""

from datetime import UTC, date, datetime, timedelta

from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.reports.lifecycle import transition
from tellcity.reports.models import Report
from tellcity.stats import queries
from tests.reports.helpers import submit

#: Positions well inside one hotspot cell each (0.001° cells: no coordinate near a cell edge).
CENTRE = (48.8242, 2.2732)  # centre-ville, by the town hall
RIVERSIDE = (48.8292, 2.2582)  # val-de-seine
HEIGHTS = (48.8172, 2.2592)  # hauts-d-issy
#: The demo zones' populations (tellcity/demo/data/issy-les-moulineaux.toml).
POPULATION = {"centre-ville": 16800, "val-de-seine": 15200, "hauts-d-issy": 11900}

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def report(city, code: str = "pothole", at=CENTRE, *, created: datetime, **fields) -> Report:
    """A report filed at `created`, flushed."""
    return submit(city, code, at=at, now=created, **fields)


def move(report: Report, status: str, user, at: datetime, **options) -> Report:
    """Move `report` to `status` as `user` at `at` (resolutions get the public text they need)."""
    if status in ("resolved", "under_review", "planned", "declined", "done"):
        options.setdefault("text", "Fait.")
    transition(report, status, Actor.of(user), now=at, **options)
    db.session.flush()
    return report


def stats(city, first: date, last: date, **filters) -> queries.Overview:
    """The statistics of the range, with filters given as the query string gives them."""
    return queries.overview(queries.make_filters(city, first=first, last=last, **filters))


def row(rows, code: str):
    """The row of a department, category or zone table with this slug or code."""
    return next(found for found in rows if found.code == code)
