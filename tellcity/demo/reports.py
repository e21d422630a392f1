"""Reports for the demo city, so that a newcomer sees a living city: problems in every sector,
at every stage of their life, a few ideas with support. They go through the real services."""

import random
from datetime import datetime, timedelta

import sqlalchemy as sa
from shapely.geometry import Point, shape

from tellcity.accounts.models import User
from tellcity.cities.models import City
from tellcity.core.db import utcnow
from tellcity.core.permissions import Actor
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.reports.lifecycle import transition
from tellcity.reports.services import add_support
from tellcity.reports.submission import Submission, submit_report

PROBLEMS = [
    ("pothole", "Nid-de-poule profond sur la chaussée, dangereux pour les vélos."),
    ("street-light", "Le lampadaire devant le n° 12 ne s'allume plus depuis trois soirs."),
    (
        "illegal-dumping",
        "Un canapé et des cartons déposés sur le trottoir.",
        {"waste_type": "bulky"},
    ),
    ("graffiti", "Tags sur le mur de l'école, côté rue."),
    ("overflowing-bin", "La corbeille déborde, les déchets s'envolent."),
    ("pavement", "Dalle descellée, on trébuche facilement."),
    ("dangerous-tree", "Grosse branche cassée qui pend au-dessus du trottoir."),
    ("park-equipment", "Le toboggan de l'aire de jeux a une marche cassée."),
    ("abandoned-vehicle", "Voiture sans plaque garée ici depuis des semaines."),
    ("obstructive-parking", "Voiture garée sur le passage piéton tous les matins."),
    ("road-marking", "Le marquage du passage piéton est presque effacé."),
    ("bus-shelter", "Vitre de l'abribus brisée, éclats de verre au sol."),
]
IDEAS = [
    ("idea-mobility", "Des arceaux vélos devant la médiathèque."),
    ("idea-environment", "Végétaliser la cour de l'école élémentaire."),
    ("idea-public-space", "Des bancs à l'ombre le long de la promenade des bords de Seine."),
    ("idea-culture-sport", "Un terrain de basket en accès libre dans le parc."),
]
STAGES = ["new", "new", "acknowledged", "in_progress", "resolved", "resolved"]


def add_demo_reports(city: City, count: int = 36, seed: int = 92040) -> int:
    """File `count` problems and a few ideas over the last weeks, and move some along."""
    rng = random.Random(seed)
    now = utcnow()
    for n in range(count):
        code, text, *answers = PROBLEMS[n % len(PROBLEMS)]
        when = now - timedelta(days=rng.uniform(0.2, 40), minutes=rng.randint(0, 600))
        point = _random_point(city, rng)
        report = _file(city, code, text, point, when, answers[0] if answers else None)
        _advance(report, rng.choice(STAGES), when)
    for n, (code, text) in enumerate(IDEAS):
        when = now - timedelta(days=rng.uniform(1, 60))
        idea = _file(city, code, text, None, when)
        for supporter in range(rng.randint(2, 40)):
            add_support(idea, supporter_key=f"demo-{n}-{supporter}")
    db.session.flush()
    return count + len(IDEAS)


def _file(city, code: str, text: str, point, when: datetime, answers: dict | None = None):
    """File a report as a resident would, answering the category's questions."""
    lat, lon = point if point else (None, None)
    submission = Submission(
        category=code,
        lat=lat,
        lon=lon,
        description=text,
        answers=answers,
    )
    report, _ = submit_report(city, submission, Actor.system("resident"), now=when)
    return report


def _random_point(city: City, rng: random.Random) -> tuple[float, float]:
    area = shape(city.boundary)
    min_lon, min_lat, max_lon, max_lat = area.bounds
    while True:
        lon, lat = rng.uniform(min_lon, max_lon), rng.uniform(min_lat, max_lat)
        if area.contains(Point(lon, lat)):
            return round(lat, 6), round(lon, 6)


def _advance(report, stage: str, when: datetime) -> None:
    if stage == "new":
        return
    staff = _staff_of(report.department)
    now = utcnow()
    transition(report, "acknowledged", staff, now=min(when + timedelta(hours=3), now))
    if stage == "acknowledged":
        return
    transition(report, "in_progress", staff, now=min(when + timedelta(hours=20), now))
    if stage == "resolved":
        fixed = "C'est réparé. Merci de votre signalement !"
        transition(report, "resolved", staff, text=fixed, now=min(when + timedelta(days=2), now))


def _staff_of(department: Department) -> Actor:
    """An agent of the department, or the city's administrator when it has none."""
    user = db.session.scalar(
        sa.select(User).where(User.department_id == department.id).order_by(User.id)
    ) or db.session.scalar(sa.select(User).where(User.role == "admin").order_by(User.id))
    return Actor.of(user)
