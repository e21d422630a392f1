"""tellcity.core.db.write_new: one INSERT, outside the unit of work, leaving an ordinary
persistent object behind."""

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tellcity.categories.models import Category
from tellcity.core.db import write_new
from tellcity.extensions import db
from tellcity.reports.models import Report, ReportEvent
from tests.factories import make_report, new_report


@pytest.fixture(autouse=True)
def _rollback_after(app):
    yield
    db.session.rollback()


def stored(report_id: int) -> dict:
    row = db.session.execute(sa.select(Report.__table__).where(Report.id == report_id)).one()
    return row._asdict()


def test_the_row_is_written_at_once_with_the_keys_of_its_relationships(app):
    report = new_report(reference="W-2026-000001")
    write_new(db.session, report)
    assert report.id is not None
    row = stored(report.id)  # read with Core: the session has nothing to flush
    assert row["reference"] == "W-2026-000001"
    assert row["category_id"] == report.category.id
    assert row["department_id"] == report.department.id
    assert row["city_id"] == report.category.city_id


def test_the_object_is_persistent_and_column_defaults_are_read_back(app):
    report = new_report(reference="W-2026-000002")
    write_new(db.session, report)
    assert sa.inspect(report).persistent
    assert db.session.get(Report, report.id) is report
    assert report.support_count == 0  # filled in by the column default, loaded when asked
    assert report.status == "new"
    assert not db.session.dirty and not db.session.new


def test_a_row_not_kept_is_written_and_stays_out_of_the_session(app):
    report = new_report(reference="W-2026-000005")
    write_new(db.session, report, keep=False)
    assert stored(report.id)["reference"] == "W-2026-000005"
    assert report not in db.session
    assert db.session.get(Report, report.id) is not report  # loaded afresh from its row


def test_a_change_after_writing_is_flushed_as_an_update(app):
    report = new_report(reference="W-2026-000003")
    write_new(db.session, report)
    report.description = "Deeper now"
    db.session.flush()
    assert stored(report.id)["description"] == "Deeper now"


def test_the_write_belongs_to_the_callers_transaction(app):
    report = new_report(reference="W-2026-000004")
    db.session.commit()  # the city, category and department stay
    write_new(db.session, report)
    report_id = report.id
    db.session.rollback()
    assert db.session.scalar(sa.select(Report.id).where(Report.id == report_id)) is None


def test_a_constraint_still_refuses_the_row(app):
    existing = make_report()
    with pytest.raises(IntegrityError):
        write_new(db.session, new_report(reference=existing.reference))


def test_an_object_with_children_to_write_is_refused(app):
    report = new_report(reference="W-2026-000005")
    report.events.append(ReportEvent(type="created"))
    with pytest.raises(ValueError, match="events"):
        write_new(db.session, report)


def test_a_relationship_to_an_unwritten_object_is_refused(app):
    report = new_report(reference="W-2026-000006")
    report.category = Category(
        city_id=report.category.city_id, code="unsaved", name_fr="x", name_en="x"
    )
    with pytest.raises(ValueError, match="unwritten"):
        write_new(db.session, report)
