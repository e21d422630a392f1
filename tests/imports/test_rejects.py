"""`tellcity import-311` keeps what a file says apart and loses no row: a bad byte spoils its
one row, every skipped row can be found again in the rejects file and imported once fixed,
names that differ only by case stay apart, and a row far from the others does not move the
city."""

import csv
import random
import threading
from pathlib import Path

import sqlalchemy as sa

from tellcity.categories.models import Category
from tellcity.cities.models import City
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.reports.models import Report, ReportSequence

DATA = Path(__file__).parent / "data"
LA_SAMPLE = DATA / "la_311_sample.csv"
QUIRKS = DATA / "la_311_synthetic_quirks.csv"

UNDECODABLE = "with bytes the mapping's encoding cannot read"
STRAY = "far from the positions of the other rows"

#: A mapping for exports in the layout of New York City's 311 service requests.
NYC_MAPPING = """\
name = "NYC 311 (test layout)"
date_formats = ["%m/%d/%Y %I:%M:%S %p"]

[city]
slug = "new-york"
name = "New York"
timezone = "America/New_York"
reference_prefix = "NYC"

[columns]
id = "Unique Key"
created = "Created Date"
closed = "Closed Date"
status = "Status"
category = "Complaint Type"
agency = "Agency"
lat = "Latitude"
lon = "Longitude"
address = "Incident Address"
description = "Descriptor"

[statuses]
Open = "new"
Closed = "resolved"
"""
NYC_HEADER = [
    "Unique Key",
    "Created Date",
    "Closed Date",
    "Agency",
    "Complaint Type",
    "Descriptor",
    "Incident Address",
    "Status",
    "Latitude",
    "Longitude",
]


def import_311(cli, path: Path, *options: str):
    return cli.invoke(args=["import-311", str(path), *options])


def report(external_id: str) -> Report | None:
    return db.session.scalar(sa.select(Report).where(Report.external_id == external_id))


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        return list(csv.reader(f))


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


def nyc_row(key: str, complaint: str, agency: str, lat: float, lon: float, **cells) -> list:
    values = {
        "Unique Key": key,
        "Created Date": "01/15/2024 09:30:00 AM",
        "Closed Date": "",
        "Agency": agency,
        "Complaint Type": complaint,
        "Descriptor": "",
        "Incident Address": "1 CENTRE STREET",
        "Status": "Open",
        "Latitude": f"{lat:.6f}",
        "Longitude": f"{lon:.6f}",
        **cells,
    }
    return [values[column] for column in NYC_HEADER]


def nyc_mapping(tmp_path: Path) -> Path:
    mapping = tmp_path / "nyc.toml"
    mapping.write_text(NYC_MAPPING, encoding="utf-8")
    return mapping


def around_new_york(count: int) -> list[tuple[float, float]]:
    """Positions spread over the five boroughs (within about 20 km of Manhattan)."""
    draw = random.Random(311)
    return [
        (40.70 + draw.uniform(-0.15, 0.15), -73.95 + draw.uniform(-0.2, 0.2)) for _ in range(count)
    ]


def test_a_bad_byte_in_the_middle_of_a_batch_rejects_its_row_alone(cli, tmp_path):
    rows = read_csv(LA_SAMPLE)
    data = LA_SAMPLE.read_bytes()
    # Row 150 (line 151 of the file): its address gets a byte UTF-8 cannot read.
    address = rows[150][16].encode()
    at = data.index(address)
    broken = tmp_path / "broken.csv"
    broken.write_bytes(data[:at] + b"\xff" + data[at + 1 :])
    rejects = tmp_path / "rejects.csv"

    result = import_311(
        cli, broken, "--profile", "la", "--batch-size", "100", "--rejects", str(rejects)
    )

    assert result.exit_code == 0, result.output
    assert f"1 {UNDECODABLE}" in result.output
    assert report(rows[150][0]) is None
    last = next(row for row in reversed(rows) if row[14])  # the last with a position
    for neighbour in (rows[149][0], rows[151][0], last[0]):  # its batch, and the end
        assert report(neighbour) is not None
    clean = import_311(cli, LA_SAMPLE, "--profile", "la")
    assert "Imported 1 reports into Los Angeles (los-angeles); 288 already imported" in (
        clean.output
    )
    header, *rejects_rows = read_csv(rejects)
    assert header[:3] == ["rejected_line", "rejected_reason", "srnumber"]
    (rejected,) = [row for row in rejects_rows if row[2] == rows[150][0]]
    assert rejected[:3] == ["151", f"{UNDECODABLE}: byte {at:,}", rows[150][0]]
    assert rejected[2 + 16] == "\ufffd" + rows[150][16][1:]  # the byte, shown as such


def test_a_byte_order_mark_counts_in_the_offset(cli, tmp_path):
    mapping = nyc_mapping(tmp_path)
    rows = [NYC_HEADER] + [
        nyc_row(f"K{i}", "Noise", "NYPD", lat, lon)
        for i, (lat, lon) in enumerate(around_new_york(3))
    ]
    text = write_csv(tmp_path / "plain.csv", rows).read_bytes().replace(b"K1", b"K\xe91")
    export = tmp_path / "bom.csv"
    export.write_bytes(b"\xef\xbb\xbf" + text)
    rejects = tmp_path / "rejects.csv"

    result = import_311(cli, export, "--mapping", str(mapping), "--rejects", str(rejects))

    assert result.exit_code == 0, result.output
    assert count(Report) == 2
    (_, rejected) = read_csv(rejects)
    byte = export.read_bytes().index(b"\xe9")  # the mark's three bytes counted
    assert rejected[:2] == ["3", f"{UNDECODABLE}: byte {byte}"]


def test_every_skipped_row_is_in_the_rejects_file_and_imports_once_fixed(cli, tmp_path):
    with QUIRKS.open(newline="", encoding="utf-8-sig") as f:
        source = list(csv.reader(f))
    skipped = {row[1]: line for line, row in enumerate(source, 1) if row[0].startswith("skip:")}
    rejects = tmp_path / "rejects.csv"

    result = import_311(cli, QUIRKS, "--profile", "la", "--rejects", str(rejects))

    assert result.exit_code == 0, result.output
    assert f"Skipped rows ({len(skipped)} rows) written to {rejects}." in result.output
    header, *rejected = read_csv(rejects)
    assert header == ["rejected_line", "rejected_reason", *source[0]]
    assert {row[3]: int(row[0]) for row in rejected} == skipped
    for row in rejected:  # each row as it was, after its line and reason
        assert row[2:] == source[int(row[0]) - 1]
    reasons = {row[3]: row[1] for row in rejected}
    assert reasons["SYNTHETIC-14"] == "with a status the mapping does not list: Mystery"
    assert reasons["SYNTHETIC-13"] == "without a readable creation date"

    # The clerk fixes two rows in a spreadsheet and imports the file again.
    fixed = []
    for row in [header, *rejected]:
        if row[3] == "SYNTHETIC-14":
            row[5] = "Closed"
        if row[3] == "SYNTHETIC-13":
            row[7] = "1/2/20 10:00"
        fixed.append(row)
    again = tmp_path / "rejects-again.csv"
    imported = count(Report)

    result = import_311(
        cli, write_csv(tmp_path / "fixed.csv", fixed), "--profile", "la", "--rejects", str(again)
    )

    assert result.exit_code == 0, result.output
    assert count(Report) == imported + 2
    assert report("SYNTHETIC-14").status == "resolved"
    still = read_csv(again)
    assert still[0] == header  # the added columns are not repeated
    # The repeated id is now that of a report imported: it is no longer a skipped row.
    assert "1 already imported" in result.output
    fixed_or_known = {"SYNTHETIC-13", "SYNTHETIC-14", "SYNTHETIC-DUP"}
    assert {row[3] for row in still[1:]} == skipped.keys() - fixed_or_known


def test_formulas_are_defused_in_the_rejects_file_and_restored_on_import(cli, tmp_path):
    mapping = nyc_mapping(tmp_path)
    (lat, lon), *_ = around_new_york(1)
    formula = '=HYPERLINK("http://evil.example","fix me")'
    rows = [
        NYC_HEADER,
        nyc_row("F1", "Noise", "NYPD", lat, lon, **{"Incident Address": formula, "Status": "?"}),
        nyc_row("F2", "Noise", "NYPD", lat, lon),
    ]
    rejects = tmp_path / "rejects.csv"

    import_311(
        cli,
        write_csv(tmp_path / "f.csv", rows),
        "--mapping",
        str(mapping),
        "--rejects",
        str(rejects),
    )

    header, rejected = read_csv(rejects)
    cells = dict(zip(header, rejected, strict=True))
    assert cells["Incident Address"] == "'" + formula  # a spreadsheet shows it, never runs it
    assert cells["Longitude"] == f"{lon:.6f}"  # a negative number is a number
    rejected[header.index("Status")] = "Open"

    result = import_311(
        cli, write_csv(tmp_path / "fixed.csv", [header, rejected]), "--mapping", str(mapping)
    )

    assert result.exit_code == 0, result.output
    assert report("F1").address == formula
    assert report("F1").lon == float(f"{lon:.6f}")


def test_names_that_differ_by_case_or_punctuation_stay_distinct(cli, tmp_path):
    mapping = nyc_mapping(tmp_path)
    places = around_new_york(5)
    rows = [
        NYC_HEADER,
        nyc_row("1", "Plumbing", "DOB", *places[0]),
        nyc_row("2", "PLUMBING", "HPD", *places[1]),
        nyc_row("3", "Plumbing!", "hpd", *places[2]),
        nyc_row("4", "Plumbing", "DOB", *places[3]),
        nyc_row("5", "Noise - Residential", "NYPD", *places[4]),
    ]
    export = write_csv(tmp_path / "nyc.csv", rows)

    result = import_311(cli, export, "--mapping", str(mapping), "--batch-size", "2")

    assert result.exit_code == 0, result.output
    categories = {c.name_en: c.code for c in db.session.scalars(sa.select(Category))}
    assert categories == {
        "Plumbing": "plumbing",
        "PLUMBING": "plumbing-2",
        "Plumbing!": "plumbing-3",
        "Noise - Residential": "noise-residential",
    }
    departments = {d.name: d.slug for d in db.session.scalars(sa.select(Department))}
    assert departments == {"DOB": "dob", "HPD": "hpd", "hpd": "hpd-2", "NYPD": "nypd"}
    assert report("1").category.name_en == report("4").category.name_en == "Plumbing"
    assert report("2").category.name_en == "PLUMBING"
    assert report("3").department.name == "hpd"
    lines = result.output.splitlines()
    assert "New departments in New York: DOB (dob), HPD (hpd), hpd (hpd-2), NYPD (nypd)." in lines
    assert (
        "New categories in New York: Plumbing (plumbing), PLUMBING (plumbing-2), "
        "Plumbing! (plumbing-3), Noise - Residential (noise-residential)."
    ) in lines

    rows.append(nyc_row("6", "PLUMBING", "HPD", *places[0]))
    again = import_311(cli, write_csv(export, rows), "--mapping", str(mapping))

    assert again.exit_code == 0, again.output
    assert "New categories" not in again.output and "New departments" not in again.output
    assert report("6").category.code == "plumbing-2"
    assert count(Category) == 4 and count(Department) == 4


def test_a_stray_position_far_away_does_not_move_the_city(cli, tmp_path):
    mapping = nyc_mapping(tmp_path)
    places = around_new_york(40)
    rows = [NYC_HEADER] + [nyc_row(f"N{i}", "Noise", "NYPD", *p) for i, p in enumerate(places)]
    rows.insert(20, nyc_row("PARIS", "Noise", "NYPD", 48.8566, 2.3522))
    rows.append(nyc_row("NEWARK", "Noise", "NYPD", 40.7357, -74.1724))  # nearby: kept
    rejects = tmp_path / "rejects.csv"

    result = import_311(
        cli,
        write_csv(tmp_path / "nyc.csv", rows),
        "--mapping",
        str(mapping),
        "--rejects",
        str(rejects),
    )

    assert result.exit_code == 0, result.output
    assert f"Imported 41 reports into New York (new-york, new city); skipped 1: 1 {STRAY}." in (
        result.output.splitlines()
    )
    assert report("PARIS") is None and report("NEWARK") is not None
    city = db.session.scalar(sa.select(City))
    assert 40.4 < city.center_lat < 41 and -74.3 < city.center_lon < -73.6
    assert city.default_zoom >= 8
    lons = [lon for ring in city.boundary["coordinates"] for lon, _ in ring]
    assert max(lons) < -73
    _, rejected = read_csv(rejects)
    assert rejected[0] == "21" and rejected[2] == "PARIS"
    assert rejected[1].startswith(f"{STRAY}: over ") and rejected[1].endswith(
        " km from their median position"
    )


def test_the_rejects_file_cannot_be_the_file_imported(cli, tmp_path):
    export = tmp_path / "quirks.csv"
    export.write_bytes(QUIRKS.read_bytes())

    result = import_311(cli, export, "--profile", "la", "--rejects", str(export))

    assert result.exit_code == 1
    assert "the rejects file cannot be quirks.csv itself" in result.output
    assert export.read_bytes() == QUIRKS.read_bytes()
    assert count(Report) == 0


def test_a_batch_the_database_refuses_stops_the_import_after_the_batches_before(cli, tmp_path):
    mapping = nyc_mapping(tmp_path)
    positions = around_new_york(7)
    first = [nyc_row(f"K{i}", "Noise", "NYPD", *positions[i]) for i in range(3)]
    import_311(cli, write_csv(tmp_path / "first.csv", [NYC_HEADER, *first]), "--mapping", mapping)
    # Two of its reports are deleted and the city's numbering set back (a backup restored
    # without it, say): the file's second batch is numbered as a report that still exists.
    for key in ("K0", "K1"):
        db.session.delete(report(key))
    db.session.execute(sa.update(ReportSequence).values(last_number=0))
    db.session.commit()
    second = [nyc_row(f"N{i}", "Noise", "NYPD", *positions[3 + i]) for i in range(4)]
    second.insert(2, nyc_row("NO-POSITION", "Noise", "NYPD", 0, 0))
    threads = threading.active_count()

    result = import_311(
        cli,
        write_csv(tmp_path / "second.csv", [NYC_HEADER, *second]),
        *("--mapping", mapping, "--batch-size", "2", "--rejects", str(tmp_path / "rejects.csv")),
    )

    assert result.exit_code == 1
    assert "the database refused a batch" in result.output
    assert "the batches before it are imported" in result.output
    assert [report(key) is not None for key in ("N0", "N1", "N2", "N3")] == [
        True,
        True,
        False,
        False,
    ]
    assert threading.active_count() == threads  # the thread reading ahead has stopped
    rejected = read_csv(tmp_path / "rejects.csv")[1:]
    assert [row[2] for row in rejected] == ["NO-POSITION"]  # in the refused batch
