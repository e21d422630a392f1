"""Importing the real Los Angeles and Baltimore samples with `tellcity import-311 --profile`.

The expected counts are worked out here from the CSV files with the csv module, independently of
the importer."""

import csv
import re
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from tellcity.categories.models import Category
from tellcity.cities.models import City
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.reports.models import Report, ReportSequence

DATA = Path(__file__).parent / "data"
LA_SAMPLE = DATA / "la_311_sample.csv"
BALTIMORE_SAMPLE = DATA / "baltimore_311_sample.csv"

NO_POSITION = "without a position (empty, unreadable or a placeholder)"
CLOSED_WITHOUT_DATE = "closed without a closing date (closing time left empty)"
DUPLICATES = "duplicates whose original is unknown (imported as duplicates of nothing)"


def read(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def has_position(lat: str, lon: str, placeholders: set[tuple[float, float]]) -> bool:
    if not lat or not lon:
        return False
    return (float(lat), float(lon)) not in placeholders | {(0.0, 0.0)}


def import_311(cli, path: Path, *options: str):
    return cli.invoke(args=["import-311", str(path), *options])


def city(slug: str) -> City:
    return db.session.scalar(sa.select(City).where(City.slug == slug))


def report(external_id: str) -> Report:
    return db.session.scalar(sa.select(Report).where(Report.external_id == external_id))


def count(model, **filters) -> int:
    query = sa.select(sa.func.count()).select_from(model).filter_by(**filters)
    return db.session.scalar(query)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def la_expectations() -> dict:
    rows = read(LA_SAMPLE)
    placed = [row for row in rows if has_position(row["latitude"], row["longitude"], set())]
    closed = {"Closed", "Cancelled", "Referred Out"}
    return {
        "rows": len(rows),
        "imported": len(placed),
        "no_position": len(rows) - len(placed),
        "closed_without_date": sum(
            1 for row in placed if row["status"] in closed and not row["closeddate"]
        ),
        "categories": {row["requesttype"] for row in placed},
    }


def test_la_sample_becomes_a_city_of_its_own_beside_the_demo_city(cli, demo_city):
    demo_reports = count(Report, city_id=demo_city.id)
    demo_categories = set(
        db.session.scalars(sa.select(Category.id).where(Category.city_id == demo_city.id))
    )
    expected = la_expectations()

    result = import_311(cli, LA_SAMPLE, "--profile", "la")

    assert result.exit_code == 0, result.output
    n, skipped = expected["imported"], expected["no_position"]
    assert (
        f"Imported {n:,} reports into Los Angeles (los-angeles, new city); "
        f"skipped {skipped}: {skipped} {NO_POSITION}." in result.output.splitlines()
    )
    assert (
        f"Imported with changes: {expected['closed_without_date']} {CLOSED_WITHOUT_DATE}."
        in result.output.splitlines()
    )
    la = city("los-angeles")
    assert la.is_imported and la.timezone == "America/Los_Angeles" and la.reference_prefix == "LA"
    assert count(Report, city_id=la.id) == n
    assert count(Report, city_id=demo_city.id) == demo_reports
    assert (
        set(db.session.scalars(sa.select(Category.id).where(Category.city_id == demo_city.id)))
        == demo_categories
    )
    categories = db.session.scalars(sa.select(Category).where(Category.city_id == la.id)).all()
    assert {category.name_en for category in categories} == expected["categories"]
    assert not demo_categories & {category.id for category in categories}
    assert all(c.is_imported and c.name_fr == c.name_en and c.kind == "problem" for c in categories)
    departments = db.session.scalars(sa.select(Department).where(Department.city_id == la.id))
    assert all(department.is_imported for department in departments)


def test_la_city_boundary_covers_its_reports(cli):
    import_311(cli, LA_SAMPLE, "--profile", "la")
    la = city("los-angeles")
    lats, lons = zip(*db.session.execute(sa.select(Report.lat, Report.lon)).all(), strict=True)
    (ring,) = la.boundary["coordinates"]
    boundary_lons, boundary_lats = zip(*ring, strict=True)
    assert min(boundary_lats) < min(lats) and max(lats) < max(boundary_lats)
    assert min(boundary_lons) < min(lons) and max(lons) < max(boundary_lons)
    assert min(lats) < la.center_lat < max(lats) and min(lons) < la.center_lon < max(lons)


def test_a_known_la_row_has_its_times_in_utc_and_no_private_data(cli):
    import_311(cli, LA_SAMPLE, "--profile", "la")

    # 1-1523590121: created 1/1/20 0:05, closed 1/2/20 8:43, Los Angeles time (PST, UTC-8).
    row = report("1-1523590121")
    assert row.reference == "LA-2020-000001"  # the first row of the file
    assert row.created_at == utc(2020, 1, 1, 8, 5)
    assert row.closed_at == row.resolved_at == utc(2020, 1, 2, 16, 43)
    assert row.acknowledged_at is None
    assert row.status == "resolved" and row.attributes == {"source_status": "Closed"}
    assert row.source == "import" and row.kind == "problem"
    assert (row.lat, row.lon) == (34.19402846, -118.4994716)
    assert row.address == "16815 W VANOWEN ST, 91406"
    assert row.category.name_en == "Illegal Dumping Pickup"
    assert row.department.name == "Bureau of Sanitation"  # owner BOS, named by the profile
    private = [
        column.name
        for column in Report.__table__.columns
        if column.name.startswith("reporter_") or column.name == "idempotency_key"
    ]
    assert {name: getattr(row, name) for name in private} == dict.fromkeys(private)
    assert row.events == []  # the report row is the whole imported history


def test_references_are_numbered_per_year_without_gaps(cli):
    import_311(cli, BALTIMORE_SAMPLE, "--profile", "baltimore")

    references = db.session.scalars(sa.select(Report.reference)).all()
    by_year: dict[str, list[int]] = {}
    for reference in references:
        match = re.fullmatch(r"BAL-(\d{4})-(\d{6})", reference)
        assert match, reference
        by_year.setdefault(match[1], []).append(int(match[2]))
    sequences = db.session.execute(sa.select(ReportSequence.year, ReportSequence.last_number))
    assert {str(year): last for year, last in sequences} == {
        year: len(numbers) for year, numbers in by_year.items()
    }
    for numbers in by_year.values():
        assert sorted(numbers) == list(range(1, len(numbers) + 1))


def test_baltimore_statuses_placeholders_and_summer_time(cli):
    rows = read(BALTIMORE_SAMPLE)
    placeholders = {(39.0, -77.0), (39.0, -76.0)}
    placed = [row for row in rows if has_position(row["Latitude"], row["Longitude"], placeholders)]
    closed = {"Closed", "Closed (Duplicate)", "Open (Duplicate)", "New (Duplicate)"}
    closed |= {"Closed (Transferred)"}
    without_date = sum(1 for row in placed if row["SRStatus"] in closed and not row["CloseDate"])
    duplicates = sum(1 for row in placed if "(Duplicate)" in row["SRStatus"])
    skipped = len(rows) - len(placed)

    result = import_311(cli, BALTIMORE_SAMPLE, "--profile", "baltimore")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert (
        f"Imported {len(placed)} reports into Baltimore (baltimore, new city); "
        f"skipped {skipped}: {skipped} {NO_POSITION}." in lines
    )
    assert (
        f"Imported with changes: {without_date} {CLOSED_WITHOUT_DATE}, "
        f"{duplicates} {DUPLICATES}." in lines
    )
    # 18-00521367: created 07/18/2018 09:09:03 AM, closed 11:31:50 AM, Baltimore summer time
    # (EDT, UTC-4).
    summer = report("18-00521367")
    assert summer.created_at == utc(2018, 7, 18, 13, 9, 3)
    assert summer.closed_at == utc(2018, 7, 18, 15, 31, 50)
    assert summer.reference.startswith("BAL-2018-")
    assert summer.department.name == "Health"
    # "Closed (Duplicate)": a duplicate, of an original the source does not name.
    duplicate = report("14-00733432")
    assert duplicate.attributes == {"source_status": "Closed (Duplicate)"}
    assert duplicate.status == "duplicate" and duplicate.duplicate_of_id is None
    assert duplicate.closed_at == utc(2014, 9, 29, 16, 52, 8)
    assert duplicate.resolved_at is None
    statuses = {
        row["SRStatus"]: report(row["ServiceRequestNum"]).status
        for row in placed
        if row["SRStatus"] in ("New", "Open", "Pending", "In Progress", "Closed (Transferred)")
    }
    assert statuses == {
        "New": "new",
        "Open": "acknowledged",
        "Pending": "in_progress",
        "In Progress": "in_progress",
        "Closed (Transferred)": "referred",
    }
    assert count(Report, status="new", closed_at=None) == count(Report, status="new")
    for placeholder in ("18-00269879",):  # at 39, -77
        assert report(placeholder) is None


def test_importing_the_same_file_twice_adds_nothing(cli):
    expected = la_expectations()
    first = import_311(cli, LA_SAMPLE, "--profile", "la")
    assert first.exit_code == 0, first.output
    references = set(db.session.scalars(sa.select(Report.reference)))

    again = import_311(cli, LA_SAMPLE, "--profile", "la")

    assert again.exit_code == 0, again.output
    n, skipped = expected["imported"], expected["no_position"]
    assert (
        f"Imported 0 reports into Los Angeles (los-angeles); {n:,} already imported; "
        f"skipped {skipped}: {skipped} {NO_POSITION}." in again.output.splitlines()
    )
    assert set(db.session.scalars(sa.select(Report.reference))) == references
    assert count(City) == 1
    assert db.session.scalar(sa.select(ReportSequence.last_number)) == n


def test_small_batches_give_the_same_result(cli):
    expected = la_expectations()
    result = import_311(cli, LA_SAMPLE, "--profile", "la", "--batch-size", "7")
    assert result.exit_code == 0, result.output
    assert count(Report) == expected["imported"]
    assert report("1-1523590121").reference == "LA-2020-000001"
