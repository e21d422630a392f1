"""Where: hotspots (cells of 0.001° with 3 reports or more), figures per 1,000 inhabitants of a
zone; and which ideas residents support most."""

from datetime import date

import pytest
import sqlalchemy as sa

from tellcity.cities.models import Zone
from tellcity.extensions import db
from tellcity.reports import services
from tests.stats.helpers import CENTRE, HEIGHTS, RIVERSIDE, move, report, row, stats, utc

APRIL = (date(2025, 4, 1), date(2025, 4, 30))


def file(city, at, count, *, day=7, **fields):
    return [report(city, at=at, created=utc(2025, 4, day, 8, n), **fields) for n in range(count)]


def test_hotspots_are_cells_with_three_reports_or_more(demo_city, staff):
    centre = file(demo_city, CENTRE, 3)
    file(demo_city, HEIGHTS, 4)
    file(demo_city, RIVERSIDE, 2)  # not enough
    file(demo_city, CENTRE, 5, day=20)  # but in May
    hidden = file(demo_city, RIVERSIDE, 1)[0]
    hidden.is_hidden = True  # moderated away: not public, not counted
    rejected = file(demo_city, RIVERSIDE, 1)[0]
    move(rejected, "rejected", staff["admin"], utc(2025, 4, 7, 10), reason="spam")
    move(centre[0], "resolved", staff["admin"], utc(2025, 4, 8, 8))
    db.session.commit()

    spots = stats(demo_city, date(2025, 4, 1), date(2025, 4, 15)).hotspots
    assert [(spot.count, spot.open) for spot in spots] == [(4, 4), (3, 2)]
    for spot, (lat, lon) in zip(spots, (HEIGHTS, CENTRE), strict=True):
        assert spot.south <= lat < spot.north and spot.west <= lon < spot.east
        assert spot.north - spot.south == pytest.approx(0.001)
        assert (spot.lat, spot.lon) == (pytest.approx(round(lat, 3)), pytest.approx(round(lon, 3)))


def test_figures_per_1000_inhabitants(demo_city):
    file(demo_city, CENTRE, 4)
    file(demo_city, HEIGHTS, 2)
    heights = db.session.scalar(sa.select(Zone).where(Zone.slug == "hauts-d-issy"))
    heights.population = None  # unknown
    db.session.commit()
    april = stats(demo_city, *APRIL)
    centre = row(april.zones, "centre-ville")
    assert centre.per_1000(centre.figures.received) == pytest.approx(4 / 16.8)
    assert centre.per_1000(centre.figures.backlog) == pytest.approx(4 / 16.8)
    unknown = row(april.zones, "hauts-d-issy")
    assert unknown.figures.received == 2 and unknown.per_1000(2) is None


def test_suggestions_by_support(demo_city):
    ideas = [
        report(demo_city, "idea-mobility", created=utc(2025, 4, 3 + n, 9), description=text)
        for n, text in enumerate(
            (
                "Une piste cyclable rue Ernest Renan",
                "Plus de bancs, écrivez-moi à idee.privee@example.org",
                "Des fontaines",
                "Cachée",
            )
        )
    ]
    for idea, supporters in zip(ideas, (2, 5, 0, 9), strict=True):
        for number in range(supporters):
            services.add_support(idea, supporter_key=f"key-{idea.id}-{number}")
    ideas[3].is_hidden = True
    report(demo_city, "idea-mobility", created=utc(2025, 3, 31, 9))  # before the range
    db.session.commit()

    found = stats(demo_city, *APRIL).suggestions
    assert [(idea.reference, idea.support_count) for idea in found] == [
        (ideas[1].reference, 5),
        (ideas[0].reference, 2),
        (ideas[2].reference, 0),
    ]
    assert "idee.privee@example.org" not in found[0].summary
    assert found[0].summary.startswith("Plus de bancs")
