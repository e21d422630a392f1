"""`tellcity import-311` with odd rows, a mapping file written for another city's export, and
the mistakes an operator makes."""

import csv
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from tellcity.categories.models import Category
from tellcity.cities.models import City
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.reports.models import Report

DATA = Path(__file__).parent / "data"
QUIRKS = DATA / "la_311_synthetic_quirks.csv"

#: The summary's words for each reason, in the order the summary lists them.
SKIPS = {
    "malformed": "malformed (not as many fields as the header)",
    "no_id": "without an id",
    "duplicate_id": "repeating an id seen earlier in the file",
    "bad_created": "without a readable creation date",
    "unknown_status": "with a status the mapping does not list",
    "no_position": "without a position (empty, unreadable or a placeholder)",
    "outside_city": "outside the city limits",
}
CHANGES = {
    "closed_before_opened": "closed before they were opened (closing date dropped)",
    "bad_closed": "with an unreadable closing date (dropped)",
    "closed_without_date": "closed without a closing date (closing time left empty)",
    "open_with_closed_date": "still open but with a closing date (dropped)",
    "no_agency": "without an agency (sent to the triage department)",
    "no_category": "without a category (filed under Other)",
}

SPRINGFIELD_MAPPING = """\
name = "Springfield 311"
delimiter = ";"
date_formats = ["%d/%m/%Y %H:%M", "iso"]
missing_values = ["", "-"]
placeholder_positions = [[45, 5]]

[city]
slug = "springfield"
name = "Springfield"
timezone = "Europe/Paris"
reference_prefix = "SPR"

[columns]
id = "Ticket"
created = "Opened"
closed = "Closed"
status = "State"
category = "Type"
agency = "Service"
lat = "Y"
lon = "X"
address = "Where"
description = "What"

[statuses]
open = "new"
done = "resolved"
refused = "rejected"
"""
SPRINGFIELD_CSV = """\
Ticket;Opened;Closed;State;Type;Service;Y;X;Where;What
T1;25/12/2023 10:30;25/12/2023 12:00;done;Pothole;Roads;45.75;4.85;1 rue A;A deep hole
T2;2024-07-01T08:00:00;-;Open;Graffiti;-;45.76;4.86;-;A tag
T3;2024-07-01T09:00:00;;refused;Pothole;Roads;45;5;2 rue B;Somewhere
T4;2024-07-02T09:00:00;;REFUSED;Noise;Police;45.77;4.87;;Loud
"""


def import_311(cli, path: Path, *options: str):
    return cli.invoke(args=["import-311", str(path), *options])


def report(external_id: str) -> Report:
    return db.session.scalar(sa.select(Report).where(Report.external_id == external_id))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def summary(imported: int, where: str, skips: Counter, changes: Counter) -> list[str]:
    """The summary lines the import should print, from counts worked out in the test."""
    listed = ", ".join(f"{skips[key]} {words}" for key, words in SKIPS.items() if key in skips)
    line = f"Imported {imported} reports into {where}; skipped {sum(skips.values())}"
    lines = [f"{line}: {listed}." if skips else f"{line}."]
    if changes:
        listed = ", ".join(f"{changes[k]} {words}" for k, words in CHANGES.items() if k in changes)
        lines.append(f"Imported with changes: {listed}.")
    return lines


def write_springfield(tmp_path: Path) -> tuple[Path, Path]:
    mapping = tmp_path / "springfield.toml"
    mapping.write_text(SPRINGFIELD_MAPPING, encoding="utf-8")
    export = tmp_path / "springfield.csv"
    export.write_text(SPRINGFIELD_CSV, encoding="utf-8-sig")  # with a byte order mark
    return mapping, export


def test_every_odd_row_is_counted_by_its_reason(cli):
    with QUIRKS.open(newline="", encoding="utf-8-sig") as f:
        outcomes = [row[0] for row in csv.reader(f)][1:]
    skips = Counter(o.split(":")[1] for o in outcomes if o.startswith("skip:"))
    changes = Counter(o.split(":")[1] for o in outcomes if o.startswith("change:"))
    imported = len(outcomes) - sum(skips.values())

    result = import_311(cli, QUIRKS, "--profile", "la")

    assert result.exit_code == 0, result.output
    imported_line, changes_line = summary(
        imported, "Los Angeles (los-angeles, new city)", skips, changes
    )
    unknown_line = "Statuses missing from the mapping: 'Mystery' (1)."
    lines = result.output.splitlines()
    start = lines.index(imported_line)
    assert lines[start : start + 3] == [imported_line, unknown_line, changes_line]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == imported


def test_odd_rows_are_kept_with_what_can_be_trusted(cli):
    import_311(cli, QUIRKS, "--profile", "la")

    closed_early = report("SYNTHETIC-6")  # created 1/3/20 10:00, "closed" 1/2/20 9:00
    assert closed_early.status == "resolved" and closed_early.closed_at is None
    assert closed_early.created_at == utc(2020, 1, 3, 18)
    other_format = report("SYNTHETIC-10")  # 01/02/2020 03:04:05 PM, Los Angeles time
    assert other_format.created_at == utc(2020, 1, 2, 23, 4, 5)
    assert other_format.closed_at == utc(2020, 1, 3, 0, 0)
    assert report("SYNTHETIC-11").category.name_en == "Other"  # requesttype NA
    triage = report("SYNTHETIC-12").department  # owner N/A
    assert (triage.name, triage.is_triage, triage.is_imported) == ("Unassigned", True, True)
    assert report("SYNTHETIC-DUP").category.name_en == "Graffiti Removal"  # the first one
    assert report("SYNTHETIC-15").closed_at is None  # closing date "soon"
    still_open = report("SYNTHETIC-16")
    assert still_open.status == "new" and still_open.closed_at is None
    for skipped in ("SYNTHETIC-2", "SYNTHETIC-9", "SYNTHETIC-13", "SYNTHETIC-14"):
        assert report(skipped) is None


def test_a_mapping_file_reads_another_citys_export(cli, tmp_path):
    mapping, export = write_springfield(tmp_path)

    result = import_311(cli, export, "--mapping", str(mapping), "--city-name", "Springfield VT")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    where = "Springfield VT (springfield, new city)"
    changes = Counter(closed_without_date=1, no_agency=1)
    expected = summary(3, where, Counter(no_position=1), changes)
    start = lines.index(expected[0])
    assert lines[start : start + 2] == expected
    springfield = db.session.scalar(sa.select(City).where(City.slug == "springfield"))
    assert springfield.name == "Springfield VT" and springfield.timezone == "Europe/Paris"
    winter = report("T1")  # 25/12/2023 10:30 Paris time (CET, UTC+1)
    assert (winter.created_at, winter.closed_at) == (
        utc(2023, 12, 25, 9, 30),
        utc(2023, 12, 25, 11),
    )
    assert winter.reference == "SPR-2023-000001" and winter.status == "resolved"
    assert winter.description == "A deep hole" and winter.department.name == "Roads"
    summer = report("T2")  # 2024-07-01T08:00:00 Paris time (CEST, UTC+2), no agency
    assert summer.created_at == utc(2024, 7, 1, 6) and summer.status == "new"
    assert summer.address == "" and summer.department.is_triage
    assert summer.reference == "SPR-2024-000001"
    refused = report("T4")
    assert (refused.status, refused.close_reason) == ("rejected", "other")
    assert refused.attributes == {"source_status": "REFUSED"}


def test_an_import_into_a_configured_city_keeps_to_its_limits(cli, demo_city, tmp_path):
    mapping, _ = write_springfield(tmp_path)
    export = tmp_path / "issy.csv"
    export.write_text(
        "Ticket;Opened;Closed;State;Type;Service;Y;X;Where;What\n"
        "I1;02/03/2024 10:00;;open;Pothole, damaged road;;48.8245;2.2735;Hôtel de ville;Inside\n"
        "I2;02/03/2024 11:00;;open;pothole;;48.8584;2.2945;Tour Eiffel;In Paris\n"
        "I3;02/03/2024 12:00;;open;Stray trolley;;48.8245;2.2735;Hôtel de ville;Inside\n"
        "I4;02/03/2024 13:00;;open;pothole;;48.8245;2.2735;Hôtel de ville;By its code\n"
        "I5;02/03/2024 14:00;;open;POTHOLE;;48.8245;2.2735;Hôtel de ville;Another name\n",
        encoding="utf-8",
    )
    demo_triage = db.session.scalar(
        sa.select(Department).where(Department.city_id == demo_city.id, Department.is_triage)
    )

    rejects = tmp_path / "rejects.csv"

    result = import_311(
        cli, export, "--mapping", str(mapping), "--city", demo_city.slug, "--rejects", str(rejects)
    )

    assert result.exit_code == 0, result.output
    assert "skipped 1: 1 outside the city limits." in result.output
    with rejects.open(newline="", encoding="utf-8-sig") as f:
        assert list(csv.reader(f, delimiter=";"))[1][:3] == ["3", "outside the city limits", "I2"]
    inside = report("I1")
    assert inside.city_id == demo_city.id and inside.reference.startswith("ISS-2024-")
    assert inside.zone_id is not None and inside.department_id == demo_triage.id
    assert inside.category.code == "pothole" and not inside.category.is_imported  # the demo's
    assert report("I4").category_id == inside.category_id  # named by its code
    # A name that is neither the category's name nor its code is another category.
    shouting = report("I5").category
    assert (shouting.code, shouting.name_en, shouting.is_imported) == ("pothole-2", "POTHOLE", True)
    assert (
        f"New categories in {demo_city.name}: Stray trolley (stray-trolley), POTHOLE (pothole-2)."
        in result.output.splitlines()
    )
    trolley = report("I3").category
    assert (trolley.code, trolley.city_id, trolley.is_imported) == (
        "stray-trolley",
        demo_city.id,
        True,
    )
    assert not demo_city.is_imported
    assert report("I2") is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(City)) == 1


def test_a_profile_that_does_not_exist_is_an_error(cli):
    result = import_311(cli, QUIRKS, "--profile", "atlantis")
    assert result.exit_code == 2
    assert "no profile 'atlantis' (known profiles: baltimore, la)" in result.output


def test_a_file_that_cannot_be_read_is_an_error(cli, tmp_path):
    missing = import_311(cli, tmp_path / "nowhere.csv", "--profile", "la")
    assert missing.exit_code == 2 and "does not exist" in missing.output
    folder = import_311(cli, tmp_path, "--profile", "la")
    assert folder.exit_code == 2 and "is a directory" in folder.output
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(QUIRKS.read_bytes()[3:].replace(b"ncname", "ncnamé".encode("latin-1")))
    wrong_encoding = import_311(cli, latin1, "--profile", "la")
    assert wrong_encoding.exit_code == 1
    byte = latin1.read_bytes().index(b"\xe9")
    assert f"latin1.csv is not utf-8-sig text (its header, at byte {byte})" in wrong_encoding.output
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "empty.csv is empty" in import_311(cli, empty, "--profile", "la").output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 0


def test_a_file_without_the_mappings_columns_is_an_error(cli):
    result = import_311(cli, DATA / "baltimore_311_sample.csv", "--profile", "la")
    assert result.exit_code == 1
    assert "has no column 'srnumber'" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(City)) == 0


def test_a_broken_mapping_file_is_an_error(cli, tmp_path):
    _, export = write_springfield(tmp_path)
    broken = tmp_path / "broken.toml"
    broken.write_text(SPRINGFIELD_MAPPING.replace('done = "resolved"', 'done = "fixed"'))
    result = import_311(cli, export, "--mapping", str(broken))
    assert result.exit_code == 2
    assert "'done' = 'fixed' is not one of new, acknowledged" in result.output
    broken.write_text(SPRINGFIELD_MAPPING.replace('lat = "Y"\n', ""))
    assert "no column given for lat" in import_311(cli, export, "--mapping", str(broken)).output
    broken.write_text("name = [")
    assert "is not valid TOML" in import_311(cli, export, "--mapping", str(broken)).output
    missing = import_311(cli, export, "--mapping", str(tmp_path / "nowhere.toml"))
    assert missing.exit_code == 2 and "cannot read the mapping" in missing.output


def test_exactly_one_of_profile_and_mapping(cli, tmp_path):
    mapping, export = write_springfield(tmp_path)
    neither = import_311(cli, export)
    both = import_311(cli, export, "--profile", "la", "--mapping", str(mapping))
    for result in (neither, both):
        assert result.exit_code == 2
        assert "give either --profile NAME or --mapping FILE" in result.output


def test_imported_categories_stay_in_their_city(cli, tmp_path):
    mapping, export = write_springfield(tmp_path)
    import_311(cli, export, "--mapping", str(mapping))
    import_311(cli, QUIRKS, "--profile", "la")
    cities = dict(db.session.execute(sa.select(City.slug, City.id)).all())
    codes = db.session.execute(sa.select(Category.city_id, Category.code)).all()
    assert {code for city_id, code in codes if city_id == cities["springfield"]} == {
        "pothole",
        "graffiti",
        "noise",
    }
    assert "graffiti-removal" in {
        code for city_id, code in codes if city_id == cities["los-angeles"]
    }


def test_imported_reports_are_stored_as_the_app_stores_its_own(cli, tmp_path):
    # The import writes its rows through the database driver, not the ORM: its times, JSON
    # and flags must read, sort and compare in SQL like those of a report made in the app.
    mapping, export = write_springfield(tmp_path)
    export.write_text(
        "Ticket;Opened;Closed;State;Type;Service;Y;X;Where;What\n"
        "T9;2024-03-31T01:59:59.250001+01:00;2024-03-31T03:00:00;done;Pothole;Roads;"
        "45.75;4.85;1 rue A;A deep hole\n",
        encoding="utf-8",
    )
    assert import_311(cli, export, "--mapping", str(mapping)).exit_code == 0
    imported = report("T9")
    # Local time Europe/Paris, which had just moved to summer time (UTC+2) at 02:00.
    assert imported.created_at == datetime(2024, 3, 31, 0, 59, 59, 250001, tzinfo=UTC)
    assert imported.closed_at == datetime(2024, 3, 31, 1, tzinfo=UTC)
    made_here = Report(
        **{
            column.key: getattr(imported, column.key)
            for column in Report.__table__.columns
            if column.key not in ("id", "reference", "external_id")
        },
        reference="SPR-2024-999999",
    )
    db.session.add(made_here)
    db.session.commit()

    columns = [column.name for column in Report.__table__.columns if column.name != "id"]
    columns.remove("reference")
    columns.remove("external_id")
    stored = db.session.execute(
        sa.text(f"SELECT {', '.join(columns)} FROM reports WHERE id IN (:a, :b)"),
        {"a": imported.id, "b": made_here.id},
    ).all()
    assert len(stored) == 2 and stored[0] == stored[1]
    same = sa.select(sa.func.count()).where(
        Report.created_at == datetime(2024, 3, 31, 0, 59, 59, 250001, tzinfo=UTC),
        Report.closed_at >= datetime(2024, 3, 31, 1, tzinfo=UTC),
        Report.attributes["source_status"].as_string() == "done",
        Report.is_hidden.is_(False),
    )
    assert db.session.scalar(same) == 2
