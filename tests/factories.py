"""Rows with sensible defaults, for tests that need a few of them."""

import itertools

from tellcity.categories.models import Category
from tellcity.cities.models import City
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.reports.models import Report

_numbers = itertools.count(1)

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[2.0, 48.0], [2.1, 48.0], [2.1, 48.1], [2.0, 48.1], [2.0, 48.0]]],
}


def make_city(**fields) -> City:
    n = next(_numbers)
    defaults = {
        "slug": f"city-{n}",
        "name": f"City {n}",
        "reference_prefix": f"C{n}",
        "boundary": SQUARE,
        "center_lat": 48.05,
        "center_lon": 2.05,
    }
    city = City(**{**defaults, **fields})
    db.session.add(city)
    db.session.flush()
    return city


def make_department(city: City, **fields) -> Department:
    n = next(_numbers)
    department = Department(**{"city": city, "slug": f"dept-{n}", "name": f"Dept {n}", **fields})
    db.session.add(department)
    db.session.flush()
    return department


def make_category(city: City, **fields) -> Category:
    n = next(_numbers)
    defaults = {"city": city, "code": f"cat-{n}", "name_fr": f"Cat {n}", "name_en": f"Cat {n}"}
    category = Category(**{**defaults, **fields})
    db.session.add(category)
    db.session.flush()
    return category


def make_report(category: Category | None = None, **fields) -> Report:
    """A report in a city of its own unless `category` (or city and department) are given."""
    report = new_report(category, **fields)
    db.session.add(report)
    db.session.flush()
    return report


def new_report(category: Category | None = None, **fields) -> Report:
    """As make_report, but not added to the session (its category and department are)."""
    if category is None:
        category = make_category(fields.get("city") or make_city())
    department = fields.pop("department", None) or make_department(category.city)
    n = next(_numbers)
    defaults = {
        "city_id": category.city_id,
        "reference": f"{category.city.reference_prefix}-2026-{n:06d}",
        "category": category,
        "kind": category.kind,
        "department": department,
        "lat": 48.05,
        "lon": 2.05,
        "description": "A hole in the road",
    }
    fields.pop("city", None)
    return Report(**{**defaults, **fields})


def make_user(**fields):
    """A resident unless told otherwise (agents and managers need a `department`)."""
    from tellcity.accounts.models import User

    n = next(_numbers)
    user = User(**{"email": f"user-{n}@example.org", "name": f"User {n}", **fields})
    db.session.add(user)
    db.session.flush()
    return user


def make_subscription(report: Report, **fields):
    """Someone following `report`: give `user` or `email`."""
    import secrets

    from tellcity.reports.models import Subscription

    defaults = {"report_id": report.id, "token": secrets.token_urlsafe(32), "is_confirmed": True}
    if "user" in fields:
        fields["user_id"] = fields.pop("user").id
    subscription = Subscription(**{**defaults, **fields})
    db.session.add(subscription)
    db.session.flush()
    return subscription


def make_event(report: Report, **fields):
    """A public status change to acknowledged, with a text for the resident."""
    from tellcity.reports.models import ReportEvent

    defaults = {
        "report": report,
        "type": "status_change",
        "from_value": report.status,
        "to_value": "acknowledged",
        "text": "We are on it.",
        "is_public": True,
        "actor_label": "test",
    }
    event = ReportEvent(**{**defaults, **fields})
    db.session.add(event)
    db.session.flush()
    return event
