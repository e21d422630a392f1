"""Loading a city from a data file: its boundary, sectors, departments, categories, routing
rules and staff. The demo city is one such file."""

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from shapely.geometry import shape

from tellcity.accounts.services import create_user
from tellcity.categories.models import Category
from tellcity.cities.models import City, Zone
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.geo.shapes import bbox, voronoi_sectors
from tellcity.reports.states import Priority
from tellcity.routing.models import RoutingRule

DATA = Path(__file__).parent / "data"
DEMO_CITY = DATA / "issy-les-moulineaux.toml"


@dataclass
class Account:
    """A staff account created by the loader, with the password to show once."""

    email: str
    role: str
    department: str | None
    password: str


def load_city_file(path: Path = DEMO_CITY) -> tuple[City, list[Account]]:
    """Create the city described by the TOML file at `path` and flush.

    Returns the city and the accounts created, with their generated passwords. Raises
    ValueError if a city with that slug already exists.
    """
    with path.open("rb") as f:
        data = tomllib.load(f)
    if db.session.scalar(sa.select(City.id).where(City.slug == data["city"]["slug"])):
        raise ValueError(f"city {data['city']['slug']!r} already exists")
    city = _add_city(data["city"], path.parent)
    zones = _add_zones(city, data.get("zones", []))
    departments = _add_departments(city, data["departments"])
    categories = _add_categories(city, data["categories"], departments)
    _add_rules(city, data.get("routing_rules", []), categories, zones, departments)
    accounts = _add_staff(city, data.get("staff", []), departments)
    return city, accounts


def _add_city(data: dict, folder: Path) -> City:
    fields = {key: value for key, value in data.items() if key != "boundary_file"}
    with (folder / data["boundary_file"]).open() as f:
        boundary = json.load(f)["features"][0]["geometry"]
    centre = shape(boundary).representative_point()
    city = City(**fields, boundary=boundary, center_lat=centre.y, center_lon=centre.x)
    db.session.add(city)
    return city


def _add_zones(city: City, rows: list[dict]) -> dict[str, Zone]:
    sectors = voronoi_sectors(city.boundary, [tuple(row["seed"]) for row in rows])
    zones = {}
    for row, sector in zip(rows, sectors, strict=True):
        min_lat, min_lon, max_lat, max_lon = bbox(sector)
        zones[row["slug"]] = Zone(
            city=city,
            slug=row["slug"],
            name=row["name"],
            population=row.get("population"),
            boundary=sector,
            min_lat=min_lat,
            min_lon=min_lon,
            max_lat=max_lat,
            max_lon=max_lon,
        )
    db.session.add_all(zones.values())
    return zones


def _add_departments(city: City, rows: list[dict]) -> dict[str, Department]:
    departments = {row["slug"]: Department(city=city, **row) for row in rows}
    db.session.add_all(departments.values())
    return departments


def _add_categories(
    city: City, rows: list[dict], departments: dict[str, Department]
) -> dict[str, Category]:
    categories = {}
    for position, row in enumerate(rows):
        fields = dict(row)
        department = departments[fields.pop("department")]
        priority = fields.pop("priority", Priority.NORMAL)
        attributes = [
            {"order": order, **attribute}
            for order, attribute in enumerate(fields.pop("attributes", []), start=1)
        ]
        categories[row["code"]] = Category(
            city=city,
            department=department,
            default_priority=priority,
            attributes=attributes,
            position=position,
            **fields,
        )
    db.session.add_all(categories.values())
    return categories


def _add_rules(
    city: City,
    rows: list[dict],
    categories: dict[str, Category],
    zones: dict[str, Zone],
    departments: dict[str, Department],
) -> None:
    for position, row in enumerate(rows):
        zone = zones[row["zone"]] if "zone" in row else None
        rule = RoutingRule(
            city=city,
            category=categories[row["category"]],
            zone=zone,
            department=departments[row["department"]],
            position=position,
        )
        db.session.add(rule)


def _add_staff(city: City, rows: list[dict], departments: dict[str, Department]) -> list[Account]:
    db.session.flush()  # the departments need their ids for the users' foreign keys
    accounts = []
    for row in rows:
        department = departments[row["department"]] if "department" in row else None
        user, password = create_user(
            row["email"], role=row["role"], name=row["name"], city=city, department=department
        )
        accounts.append(Account(user.email, user.role, row.get("department"), password))
    return accounts
