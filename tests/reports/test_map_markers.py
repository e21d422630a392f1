"""The public map's markers: a viewport's public reports, newest first, at most the limit,
whether they are among the newest reports of the city or older."""

import pytest

from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.reports.lifecycle import transition
from tellcity.reports.queries import markers_in_box
from tests.reports.helpers import submit

INSIDE = (48.8240, 2.2730)
ELSEWHERE = (48.8300, 2.2600)
BOX = {"south": 48.8230, "west": 2.2720, "north": 48.8250, "east": 2.2740}


@pytest.fixture
def reports(demo_city, staff):
    """Ten reports, oldest first: even ones inside the box, odd ones outside; the fourth
    hidden and the sixth rejected (both inside)."""
    made = [submit(demo_city, at=INSIDE if i % 2 == 0 else ELSEWHERE) for i in range(10)]
    made[4].is_hidden = True
    transition(made[6], "rejected", Actor.of(staff["agent.voirie"]), reason="spam")
    db.session.commit()
    return made


@pytest.mark.parametrize("window", [1, 3, 6, 50_000])
def test_markers_are_the_public_ones_in_the_box_newest_first(demo_city, reports, window):
    """The same answer whether the newest reports searched first hold all the markers, some
    of them or none."""
    found = markers_in_box(demo_city, **BOX, window=window)
    assert [m.reference for m in found] == [reports[i].reference for i in (8, 2, 0)]
    assert all((m.lat, m.lon) == INSIDE for m in found)


@pytest.mark.parametrize("window", [1, 4, 50_000])
def test_markers_stop_at_the_limit_keeping_the_newest(demo_city, reports, window):
    found = markers_in_box(demo_city, **BOX, limit=2, window=window)
    assert [m.reference for m in found] == [reports[8].reference, reports[2].reference]


def test_an_empty_viewport_has_no_markers(demo_city, reports):
    assert markers_in_box(demo_city, 48.80, 2.20, 48.801, 2.201, window=3) == []
