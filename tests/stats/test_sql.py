"""The SQL pieces that differ between SQLite and PostgreSQL give the same answers on both."""

import math
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from tellcity.extensions import db
from tellcity.reports.models import Report
from tellcity.stats.sql import as_date, floor_of, local_day, seconds_between
from tests.stats.helpers import report, utc


@pytest.mark.parametrize("value", [-118.2437, -2.5, -2.0, -0.3, 0.0, 0.3, 2.5, 48824.5, 48824.49])
def test_floor(app, value):
    assert db.session.scalar(sa.select(floor_of(sa.literal(value, sa.Float)))) == math.floor(value)


def test_seconds_and_local_days_across_the_change_to_summer_time(app, demo_city):
    filed = report(demo_city, created=utc(2025, 3, 29, 23, 30))  # 00:30 on the 30th, UTC+1
    filed.acknowledged_at = utc(2025, 3, 30, 22, 15) + timedelta(seconds=30)  # 00:15, 31st, UTC+2
    db.session.commit()
    seconds = seconds_between(Report.created_at, Report.acknowledged_at)
    assert db.session.scalar(sa.select(seconds)) == pytest.approx(22 * 3600 + 45 * 60 + 30)
    start, end = utc(2025, 3, 1), utc(2025, 4, 1)
    days = [
        local_day(column, "Europe/Paris", start, end)
        for column in (Report.created_at, Report.acknowledged_at)
    ]
    found = db.session.execute(sa.select(*days)).one()
    assert [as_date(day) for day in found] == [date(2025, 3, 30), date(2025, 3, 31)]
