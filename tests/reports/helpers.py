"""Submitting reports in the demo city the way residents do, through the real services."""

from datetime import datetime

import sqlalchemy as sa

from tellcity.categories import questions
from tellcity.categories.models import Category
from tellcity.core.permissions import Actor
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.reports.submission import Submission, submit_report

TOWN_HALL = (48.8245, 2.2735)  # lat, lon: Hôtel de ville, centre-ville
ILE_SAINT_GERMAIN = (48.8285, 2.2580)  # riverside park, north of the city
EIFFEL_TOWER = (48.8584, 2.2945)  # Paris


def category(city, code: str) -> Category:
    return db.session.scalar(
        sa.select(Category).where(Category.city_id == city.id, Category.code == code)
    )


def department(city, slug: str) -> Department:
    return db.session.scalar(
        sa.select(Department).where(Department.city_id == city.id, Department.slug == slug)
    )


def required_answers(category: Category) -> dict:
    """An answer to each required question, the first value offered (or some text)."""
    return {
        question["code"]: (question.get("values") or [{"key": "42"}])[0]["key"]
        for question in questions.asked(category)
        if question.get("required")
    }


def submit(city, code="pothole", at=TOWN_HALL, now: datetime | None = None, **fields):
    """Submit a report as a resident would and return it (flushed, not committed)."""
    fields.setdefault("description", "Un trou profond devant l'entrée")
    fields.setdefault("reporter_email", "jeanne@example.org")
    fields.setdefault("answers", required_answers(category(city, code)))
    lat, lon = at if at is not None else (None, None)
    submission = Submission(category=code, lat=lat, lon=lon, **fields)
    report, _ = submit_report(city, submission, Actor.system("resident"), now=now)
    return report
