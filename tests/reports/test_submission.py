"""Submitting a report: reference, deadlines, idempotency, validation, the department told."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from tellcity.core.errors import Invalid
from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.notify.models import OutboxMessage
from tellcity.reports.models import Report
from tellcity.reports.submission import Submission, submit_report
from tests.factories import make_category, make_city
from tests.reports.helpers import ILE_SAINT_GERMAIN, TOWN_HALL, category, submit

MONDAY_9AM_PARIS = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_references_count_up_per_city_and_year(demo_city):
    first = submit(demo_city, now=MONDAY_9AM_PARIS)
    second = submit(demo_city, now=MONDAY_9AM_PARIS)
    assert (first.reference, second.reference) == ("ISS-2026-000001", "ISS-2026-000002")


def test_the_year_of_a_reference_is_the_city_s_local_year(demo_city):
    new_year_in_paris = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 January
    assert submit(demo_city, now=new_year_in_paris).reference == "ISS-2027-000001"


def test_deadlines_count_business_hours(demo_city):
    report = submit(demo_city, "pothole", now=MONDAY_9AM_PARIS)  # 40 business hours
    # Mon 8.5 h + Tue, Wed, Thu 9 h each = 35.5 h; 4.5 h more on Friday from 08:30.
    assert report.due_at == datetime(2026, 3, 6, 12, 0, tzinfo=UTC)  # Friday 13:00 Paris
    # 80 % is 32 h: 26.5 h by Wednesday evening, 5.5 h on Thursday.
    assert report.at_risk_at == datetime(2026, 3, 5, 13, 0, tzinfo=UTC)
    assert report.priority == category(demo_city, "pothole").default_priority


def test_a_retried_submission_with_the_same_key_makes_one_report(demo_city):
    first = submit(demo_city, idempotency_key="phone-1234-try")
    again = submit(demo_city, idempotency_key="phone-1234-try", description="other text")
    assert again.id == first.id
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Report))
    assert count == 1
    assert len(first.events) == 1


def test_the_department_is_told_in_the_same_transaction(demo_city):
    report = submit(demo_city, "pothole")
    messages = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    # The department, and the reporter's acknowledgement.
    assert [m.recipient for m in messages] == ["voirie@issy.example.org", "jeanne@example.org"]
    assert {m.report_id for m in messages} == {report.id}
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_a_dashboard_only_department_gets_no_email(demo_city):
    submit(demo_city, "illegal-dumping", at=ILE_SAINT_GERMAIN)  # espaces-verts: dashboard
    recipients = db.session.scalars(sa.select(OutboxMessage.recipient)).all()
    assert recipients == ["jeanne@example.org"]  # the reporter's acknowledgement alone


def test_a_category_of_another_city_or_inactive_is_refused(demo_city):
    stranger = make_category(make_city())
    with pytest.raises(Invalid) as refused:
        submit_report(demo_city, Submission(stranger.code, *TOWN_HALL), Actor.system())
    assert refused.value.code == "unknown_category"
    pothole = category(demo_city, "pothole")
    pothole.is_active = False
    with pytest.raises(Invalid, match="pas proposée ici"):
        submit(demo_city, "pothole")


def test_a_description_over_4000_characters_is_refused(demo_city):
    with pytest.raises(Invalid) as refused:
        submit(demo_city, description="x" * 4001)
    assert refused.value.field == "description"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 0


def test_the_reporter_email_is_kept_lowercase_and_private_fields_stored(demo_city):
    report = submit(
        demo_city,
        reporter_email=" Jeanne@Example.ORG ",
        reporter_name="Jeanne",
        reporter_phone="+33 6 12 34 56 78",
    )
    assert report.reporter_email == "jeanne@example.org"
    assert (report.reporter_name, report.reporter_phone) == ("Jeanne", "+33 6 12 34 56 78")
