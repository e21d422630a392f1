"""The database itself refuses data that would be wrong, on SQLite and PostgreSQL alike."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, StatementError

from tellcity.accounts.models import User
from tellcity.extensions import db
from tellcity.reports.models import Report, Subscription, Support
from tests.factories import make_category, make_city, make_department, make_report


def refused(**kwargs):
    """Expect the next flush to be refused by a constraint, then clean the session."""
    return pytest.raises(IntegrityError, **kwargs)


@pytest.fixture(autouse=True)
def _rollback_after(app):
    yield
    db.session.rollback()


def test_public_reference_is_unique(app):
    report = make_report()
    with refused():
        make_report(category=report.category, reference=report.reference)


def test_report_must_point_at_an_existing_category(app):
    report = make_report()
    with refused():
        report.category_id = 999_999
        db.session.flush()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "lost"),
        ("kind", "complaint"),
        ("source", "fax"),
        ("priority", 0),
        ("priority", 5),
        ("lat", 91.0),
        ("lat", -90.5),
        ("lon", 180.5),
        ("support_count", -1),
    ],
)
def test_report_values_out_of_their_domain_are_refused(app, field, value):
    with refused():
        make_report(**{field: value})


def test_a_duplicate_must_name_the_report_it_duplicates(app):
    with refused():
        make_report(status="duplicate")


def test_a_report_cannot_duplicate_itself(app):
    report = make_report()
    report.duplicate_of_id = report.id
    with refused():
        db.session.flush()


def test_every_known_status_is_accepted(app):
    original = make_report()
    for status in ("new", "in_progress", "not_actionable", "under_review", "done"):
        make_report(category=original.category, status=status)
    make_report(category=original.category, status="duplicate", duplicate_of_id=original.id)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 7


def test_idempotency_key_finds_one_report_only(app):
    report = make_report(idempotency_key="client-retry-1")
    with refused():
        make_report(category=report.category, idempotency_key="client-retry-1")


def test_imported_ids_are_unique_per_city_not_across_cities(app):
    report = make_report(external_id="311-42")
    make_report(external_id="311-42")  # another city: fine
    with refused():
        make_report(category=report.category, external_id="311-42")


def test_support_counts_once_per_person(app):
    report = make_report()
    user = User(email="jeanne@example.org")
    db.session.add(user)
    db.session.flush()
    db.session.add(Support(report_id=report.id, user_id=user.id))
    db.session.flush()
    with refused():
        db.session.add(Support(report_id=report.id, user_id=user.id))
        db.session.flush()
    db.session.rollback()
    report = make_report()
    db.session.add(Support(report_id=report.id, supporter_key="cookie-hash"))
    db.session.flush()
    with refused():
        db.session.add(Support(report_id=report.id, supporter_key="cookie-hash"))
        db.session.flush()


def test_support_must_say_who(app):
    report = make_report()
    with refused():
        db.session.add(Support(report_id=report.id))
        db.session.flush()


@pytest.mark.parametrize("targets", [(), ("report", "zone")])
def test_subscription_follows_exactly_one_thing(app, targets):
    report = make_report()
    category = report.category
    fields = {"report": {"report_id": report.id}, "zone": {"category_id": category.id}}
    values = {key: value for target in targets for key, value in fields[target].items()}
    with refused():
        db.session.add(Subscription(email="a@example.org", token="t1", **values))
        db.session.flush()


def test_agents_and_managers_belong_to_a_department(app):
    with refused():
        db.session.add(User(email="agent@example.org", role="agent"))
        db.session.flush()


def test_user_emails_are_unique_lowercase_and_roles_known(app):
    db.session.add(User(email="jeanne@example.org"))
    db.session.flush()
    for user in (
        User(email="jeanne@example.org"),
        User(email="Paul@Example.org"),
        User(email="paul@example.org", role="superuser"),
    ):
        with refused():
            db.session.add(user)
            db.session.flush()
        db.session.rollback()


def test_one_triage_desk_per_city(app):
    city = make_city()
    make_department(city, is_triage=True)
    make_department(make_city(), is_triage=True)  # another city has its own
    with refused():
        make_department(city, is_triage=True)


def test_email_delivery_needs_an_address(app):
    with refused():
        make_department(make_city(), delivery_method="email")


def test_service_codes_are_unique_per_city_only(app):
    city = make_city()
    make_category(city, code="pothole")
    make_category(make_city(), code="pothole")
    with refused():
        make_category(city, code="pothole")


def test_categories_kind_and_priority_are_checked(app):
    with refused():
        make_category(make_city(), kind="rumour")
    db.session.rollback()
    with refused():
        make_category(make_city(), default_priority=9)


def test_a_city_cannot_be_deleted_while_it_has_reports(app):
    report = make_report()
    with refused():
        db.session.execute(
            sa.delete(type(report.city)).where(type(report.city).id == report.city_id)
        )


def test_timestamps_come_back_in_utc_whatever_zone_they_went_in(app):
    paris = timezone(timedelta(hours=1))
    report = make_report(due_at=datetime(2026, 3, 2, 17, 30, tzinfo=paris))
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Report, report.id)
    assert stored.due_at == datetime(2026, 3, 2, 16, 30, tzinfo=UTC)
    assert stored.due_at.tzinfo == UTC
    assert stored.created_at.tzinfo == UTC


def test_naive_timestamps_are_refused(app):
    with pytest.raises(StatementError, match="naive datetime"):
        make_report(due_at=datetime(2026, 3, 2, 17, 30))
