"""A month of reports in the demo city (Europe/Paris, UTC+1 in March 2025 until the 30th),
every figure of which the tests work out by hand."""

from types import SimpleNamespace

import pytest

from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.reports import services
from tellcity.reports.lifecycle import transition
from tests.reports.helpers import department
from tests.stats.helpers import DAY, HOUR, RIVERSIDE, move, report, utc


@pytest.fixture
def march(demo_city, staff):
    """Reports of March 2025 (and a few around it), as of today:

    | report | category, place | created (UTC) | what happened |
    |---|---|---|---|
    | a | pothole, centre | 3 Mar 08:00 | acknowledged +1 h, resolved +5 h, confirmed 4 Mar |
    | b | pothole, centre | 4 Mar 08:00 | acknowledged +3 h, in progress, to proprete 5 Mar |
    | c | pothole, riverside | 5 Mar 08:00 | new |
    | d | street-light, centre | 5 Mar 08:00 | acknowledged +2 h, resolved 25 Mar (20 days, late) |
    | e | street-light, centre | 6 Mar 08:00 | duplicate of d +1 h |
    | f | pothole, riverside | 20 Feb 08:00 | resolved 4 Mar (12 days, late) |
    | h | pothole, centre | 10 Mar 08:00 | acknowledged +4 h, resolved 11 Mar, reopened 12 Mar |
    | i | pothole, centre | 31 Mar 08:00 | new |
    | j | pothole, centre | 1 Dec 2024 | new |
    | g | pothole, centre | 2 Apr 08:00 | new (after the range) |
    """
    agent, chef = staff["agent.voirie"], staff["chef.voirie"]
    lights = staff["admin"]  # the lighting department has no demo agent
    city = demo_city
    a = report(city, created=utc(2025, 3, 3, 8))
    move(a, "acknowledged", agent, utc(2025, 3, 3, 9))
    move(a, "resolved", agent, utc(2025, 3, 3, 13))
    services.confirm_fix(a, Actor.reporter(a), now=utc(2025, 3, 4, 10))

    b = report(city, created=utc(2025, 3, 4, 8))
    move(b, "acknowledged", agent, utc(2025, 3, 4, 11))
    move(b, "in_progress", agent, utc(2025, 3, 4, 12))
    transfer = services.transfer(b, department(city, "proprete"), Actor.of(chef), "Pas chez nous")
    transfer.created_at = utc(2025, 3, 5, 10)

    c = report(city, at=RIVERSIDE, created=utc(2025, 3, 5, 8))
    d = report(city, "street-light", created=utc(2025, 3, 5, 8))
    move(d, "acknowledged", lights, utc(2025, 3, 5, 10))
    e = report(city, "street-light", created=utc(2025, 3, 6, 8))
    move(e, "duplicate", lights, utc(2025, 3, 6, 9), duplicate_of=d)
    move(d, "resolved", lights, utc(2025, 3, 25, 8))

    f = report(city, at=RIVERSIDE, created=utc(2025, 2, 20, 8))
    move(f, "resolved", agent, utc(2025, 3, 4, 8))

    h = report(city, created=utc(2025, 3, 10, 8))
    move(h, "acknowledged", agent, utc(2025, 3, 10, 12))
    move(h, "resolved", agent, utc(2025, 3, 11, 8))
    reopen_as_reporter(h, utc(2025, 3, 12, 8))

    i = report(city, created=utc(2025, 3, 31, 8))
    j = report(city, created=utc(2024, 12, 1, 8))
    g = report(city, created=utc(2025, 4, 2, 8))
    db.session.commit()
    assert (a.due_at - a.created_at) > 5 * HOUR and (d.due_at - d.created_at) < 20 * DAY
    return SimpleNamespace(a=a, b=b, c=c, d=d, e=e, f=f, h=h, i=i, j=j, g=g)


def reopen_as_reporter(report, at):
    """The reporter reopens their resolved report (through their private link)."""
    transition(report, "acknowledged", Actor.reporter(report), text="Toujours cassé", now=at)
    db.session.flush()
