"""The statistics are kept a few minutes (STATS_CACHE_SECONDS) for every reader, and the worker
recomputes the views the pages open by default before they expire: a report filed meanwhile
is counted once the figures are recomputed, and every page says when they were."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tellcity.accounts.api_keys import create_api_key
from tellcity.admin.access import CLI
from tellcity.core.db import utcnow
from tellcity.extensions import db
from tellcity.notify.worker import PERIODIC_JOBS, run_worker, warm_stats_snapshots
from tellcity.stats import queries, services
from tellcity.stats.models import StatsSnapshot
from tellcity.stats.periods import last_days, last_month, month_range
from tests.factories import make_city
from tests.stats.helpers import RIVERSIDE, report, utc

MARCH = "from=2025-03-01&to=2025-03-31"


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("lang", "en")


def received(client, query: str = MARCH) -> int:
    response = client.get(f"/api/v1/stats?{query}")
    assert response.status_code == 200, response.text
    return response.json["totals"]["received"]


def age_snapshots(seconds: float) -> None:
    """Every snapshot, as if computed `seconds` earlier than it was."""
    for snapshot in db.session.scalars(sa.select(StatsSnapshot)):
        snapshot.computed_at -= timedelta(seconds=seconds)
    db.session.commit()


def computed_times() -> list:
    db.session.expire_all()
    return db.session.scalars(sa.select(StatsSnapshot.computed_at)).all()


def local_time(moment) -> str:
    return moment.astimezone(ZoneInfo("Europe/Paris")).strftime("%H:%M")


def test_figures_are_kept_until_they_expire(app, client, login_as, march, demo_city):
    login_as("cabinet")
    assert received(client) == 7
    report(demo_city, created=utc(2025, 3, 15, 8))
    db.session.commit()
    # Within their lifetime, every reader gets the same figures: the page, its exports, the API.
    assert received(client) == 7
    export = client.get(f"/staff/stats/export/headline.json?{MARCH}").json
    assert export["rows"][0] == {
        "metric": "received",
        "current": 7,
        "previous": 1,
        "change": 6.0,
        "change_kind": "relative",
    }
    # Once expired, they are computed again, and stay so.
    age_snapshots(app.config["STATS_CACHE_SECONDS"] + 1)
    assert received(client) == 8
    assert received(client) == 8


def test_with_no_lifetime_figures_are_always_computed(app, client, login_as, march, demo_city):
    app.config["STATS_CACHE_SECONDS"] = 0
    login_as("cabinet")
    assert received(client) == 7
    report(demo_city, created=utc(2025, 3, 15, 8))
    db.session.commit()
    assert received(client) == 8
    assert computed_times() == []


def test_other_filters_and_other_cities_have_figures_of_their_own(client, login_as, march):
    login_as("cabinet")
    everywhere = received(client)
    assert received(client, f"{MARCH}&zone=val-de-seine") == 1  # c
    assert received(client, f"{MARCH}&category=street-light") == 2  # d, e
    assert received(client, "from=2025-03-01&to=2025-03-30") == everywhere - 1  # not i
    by_week = client.get(f"/api/v1/stats?{MARCH}&period=week").json["series"]
    assert [point["start"] for point in by_week][:2] == ["2025-02-24", "2025-03-03"]
    # A key for every city reads another city's figures for the same range: none.
    elsewhere = make_city(slug="ailleurs")
    row, secret = create_api_key("tableau de bord", city=None, actor=CLI)
    row.scopes = ["stats"]
    db.session.commit()
    other = client.get(f"/api/v1/stats?{MARCH}&city=ailleurs", headers={"X-Api-Key": secret})
    assert (other.json["city"]["slug"], other.json["totals"]["received"]) == (elsewhere.slug, 0)
    assert received(client) == everywhere == 7
    assert len(computed_times()) == 6


def test_figures_computed_for_a_reader_are_kept_by_the_request(client, login_as, march):
    # Each reader's GET stores its snapshot, and the request commits it: the next reader of
    # the same figures, in another transaction, finds them.
    login_as("cabinet")
    readers = [
        f"/staff/stats/?{MARCH}",
        f"/staff/stats/export/zones.csv?{MARCH}&period=week",
        f"/api/v1/stats?{MARCH}&period=month",
        "/stats",  # the public page: three selections of its own
    ]
    kept = []
    for path in readers:
        assert client.get(path).status_code == 200, path
        kept.append(len(computed_times()))
    assert kept == [1, 2, 3, 6]


def test_the_pages_and_the_api_say_when_the_figures_were_computed(client, login_as, march):
    login_as("cabinet")
    document = client.get(f"/api/v1/stats?{MARCH}").json
    assert document["definitions"]["computed_at"]
    age_snapshots(90)  # still fresh: what the pages show is the stored figures' time
    computed_at = computed_times()[0]
    assert client.get(f"/api/v1/stats?{MARCH}").json["computed_at"] == computed_at.isoformat()
    page = client.get(f"/staff/stats/?{MARCH}").text
    assert f"Figures as of {local_time(computed_at)}." in page
    export = client.get(f"/staff/stats/export/zones.json?{MARCH}").json
    assert export["computed_at"] == computed_at.isoformat()


def test_the_worker_keeps_the_default_views_computed(app, client, login_as, demo_city):
    assert warm_stats_snapshots in [job for _interval, job in PERIODIC_JOBS]
    run_worker(app, once=True)
    assert len(computed_times()) == 6  # the staff pages' three default views, the public page's
    age_snapshots(60)  # a minute ago: the pages show that time only if they read them
    computed_at = computed_times()[0]
    report(demo_city, created=utcnow() - timedelta(hours=1))
    report(demo_city, created=utcnow() - timedelta(days=40))
    db.session.commit()
    login_as("cabinet")
    # The overview's default (and the API's), its last 365 days, the monthly summary's default.
    document = client.get("/api/v1/stats").json
    assert (document["computed_at"], document["totals"]["received"]) == (
        computed_at.isoformat(),
        0,
    )
    year = last_days(demo_city.timezone, 365)
    page = client.get("/staff/stats/").text
    link = f"/staff/stats/?from={year.first.isoformat()}&amp;to={year.last.isoformat()}"
    assert link in page and "Last 365 days" in page
    for path in ("/staff/stats/", link.replace("&amp;", "&"), "/staff/stats/monthly"):
        assert f"Figures as of {local_time(computed_at)}." in client.get(path).text, path
    assert received(client, f"from={year.first}&to={year.last}") == 0


def test_the_worker_recomputes_before_expiry_and_forgets_old_figures(app, demo_city):
    run_worker(app, once=True)
    first = sorted(computed_times())
    run_worker(app, once=True)
    assert sorted(computed_times()) == first  # still fresh: left alone
    lifetime = app.config["STATS_CACHE_SECONDS"]
    age_snapshots(lifetime - services.REFRESH_AHEAD.total_seconds() + 1)  # about to expire
    before = utcnow()
    report(demo_city, at=RIVERSIDE, created=before - timedelta(hours=2))
    db.session.commit()
    run_worker(app, once=True)
    assert all(moment >= before for moment in computed_times())
    default = services.statistics(queries.make_filters(demo_city), now=utcnow())
    assert default.totals.received == 1 and default.computed_at >= before
    # Figures of a range nobody asked for since yesterday are forgotten.
    services.statistics(queries.make_filters(demo_city, first=date(2025, 1, 1)))
    db.session.commit()
    assert len(computed_times()) == 7
    age_snapshots(services.SNAPSHOT_RETENTION.total_seconds() + 1)
    run_worker(app, once=True)
    assert len(computed_times()) == 6


def test_two_processes_storing_the_same_figures_at_once(app, march, demo_city):
    filters = queries.make_filters(demo_city, first=date(2025, 3, 1), last=date(2025, 3, 31))
    earlier = queries.overview(filters, now=utcnow() - timedelta(seconds=5))
    later = services.statistics(filters)  # another process, which stored first
    db.session.commit()
    services.keep(filters, earlier)  # no error, and the later figures stay
    db.session.commit()
    assert computed_times() == [later.computed_at]


def test_default_views_are_the_ones_the_pages_open(demo_city):
    overview, year, month = services.default_views(demo_city)
    assert overview == queries.make_filters(demo_city)
    assert year.dates == last_days(demo_city.timezone, 365)
    assert month.dates == month_range(last_month(demo_city.timezone), demo_city.timezone)
    assert month.period == "day"
