"""The statistics every reader takes (the pages, their exports, `GET /api/v1/stats`, the public
page): computed at most STATS_CACHE_SECONDS ago, and kept in the stats_snapshots table so that
every process answers from the same figures; and the worker's job that recomputes the views the
pages open by default before they expire, so that the mayor's office and residents seldom wait
for a year of reports to be read.

Snapshots hold figures only, the same for everyone who may read them: who may is checked
before asking for them."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from tellcity.cities.models import City
from tellcity.core.db import utcnow
from tellcity.core.transaction import unit_of_work
from tellcity.extensions import db
from tellcity.stats.models import StatsSnapshot
from tellcity.stats.periods import last_days, last_month, local_today, month_range, months_before
from tellcity.stats.queries import Overview, StatsFilters, make_filters

#: The worker recomputes a default view this long before it expires (two runs of its job)...
REFRESH_AHEAD = timedelta(seconds=120)
#: ...and forgets snapshots older than this.
SNAPSHOT_RETENTION = timedelta(days=1)
#: The longer range the overview offers besides its default 30 days.
YEAR_DAYS = 365
#: The public page's monthly series: this month and the 11 before it.
PUBLIC_MONTHS = 12


def statistics(
    filters: StatsFilters, *, locale: str = "fr", now: datetime | None = None
) -> Overview:
    """Every figure of `filters`' selection: the snapshot of these filters when it was computed
    less than STATS_CACHE_SECONDS before `now`, else computed now and kept (flushed: the
    request commits it, even a GET's). With STATS_CACHE_SECONDS = 0, always computed, never
    kept."""
    now = now or utcnow()
    lifetime = _lifetime()
    if not lifetime:
        return Overview(filters, locale=locale, now=now)
    snapshot = _snapshot(filters, now - lifetime)
    if snapshot is not None:
        return Overview(
            filters, locale=locale, now=snapshot.computed_at, document=snapshot.document
        )
    stats = Overview(filters, locale=locale, now=now)
    keep(filters, stats)
    return stats


def keep(filters: StatsFilters, stats: Overview) -> None:
    """Store `stats` (computed in full first) as the snapshot of `filters`, in place of an
    older one: one upsert, so that two processes computing the same figures at once both
    succeed, and the later figures stay. (It cannot fail on the other's row, so it needs no
    savepoint: the second waits for the first to commit, then updates or leaves it.)"""
    table = StatsSnapshot.__table__
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(
        city_id=filters.city.id,
        key=filters.cache_key(),
        computed_at=stats.computed_at,
        document=stats.to_document(),
    )
    statement = statement.on_conflict_do_update(
        index_elements=["city_id", "key"],
        set_={
            "computed_at": statement.excluded.computed_at,
            "document": statement.excluded.document,
        },
        where=table.c.computed_at < statement.excluded.computed_at,
    )
    db.session.execute(statement)


def _snapshot(filters: StatsFilters, since: datetime) -> StatsSnapshot | None:
    """The snapshot of `filters` computed after `since`, if any (and of the document shape this
    version reads)."""
    snapshot = db.session.scalar(
        sa.select(StatsSnapshot).where(
            StatsSnapshot.city_id == filters.city.id,
            StatsSnapshot.key == filters.cache_key(),
            StatsSnapshot.computed_at > since,
        )
    )
    if snapshot is None or snapshot.document.get("version") != Overview.DOCUMENT_VERSION:
        return None
    return snapshot


def _lifetime() -> timedelta:
    return timedelta(seconds=current_app.config["STATS_CACHE_SECONDS"])


# --- The worker's job ---------------------------------------------------------------------------


def default_views(city: City, now: datetime | None = None) -> list[StatsFilters]:
    """The selections the pages and the API open without parameters: the last 30 days (the
    overview, GET /api/v1/stats), the last 365 days (the overview's other link) and last
    month (the monthly summary)."""
    year = last_days(city.timezone, YEAR_DAYS, now)
    month = month_range(last_month(city.timezone, now), city.timezone)
    return [
        make_filters(city, now=now),
        make_filters(city, first=year.first, last=year.last, now=now),
        make_filters(city, first=month.first, last=month.last, period="day", now=now),
    ]


@dataclass(frozen=True)
class PublicViews:
    """The selections the public statistics page reads, of public reports only: this month
    up to today, last month, and the PUBLIC_MONTHS calendar months up to today by month."""

    this_month: StatsFilters
    last_month: StatsFilters
    months: StatsFilters

    def __iter__(self):
        return iter((self.this_month, self.last_month, self.months))


def public_views(city: City, now: datetime | None = None) -> PublicViews:
    """The public page's selections, as of `now` (by default, now)."""
    today = local_today(city.timezone, now)
    previous = month_range(last_month(city.timezone, now), city.timezone)

    def public(first, last, period):
        return make_filters(city, first=first, last=last, period=period, now=now, is_public=True)

    return PublicViews(
        this_month=public(today.replace(day=1), today, "day"),
        last_month=public(previous.first, previous.last, "day"),
        months=public(months_before(today, PUBLIC_MONTHS - 1), today, "month"),
    )


def refresh_default_views(now: datetime | None = None) -> int:
    """Recompute, for every city, the default views and the public page's whose snapshot
    expires within REFRESH_AHEAD (or is missing), committing each as soon as it is stored (a
    reader may be waiting for it; and on SQLite a write holds the database until it is
    committed); then forget snapshots older than SNAPSHOT_RETENTION. Returns how many were
    recomputed."""
    now = now or utcnow()
    lifetime = _lifetime()
    if not lifetime:
        return 0
    refreshed = 0
    for city in db.session.scalars(sa.select(City).order_by(City.id)).all():
        for filters in [*default_views(city, now), *public_views(city, now)]:
            if _snapshot(filters, now - lifetime + REFRESH_AHEAD) is None:
                with unit_of_work():
                    keep(filters, Overview(filters, now=now))
                refreshed += 1
    db.session.execute(
        sa.delete(StatsSnapshot).where(StatsSnapshot.computed_at < now - SNAPSHOT_RETENTION)
    )
    return refreshed
