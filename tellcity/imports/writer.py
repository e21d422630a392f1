"""Writing rows of a 311 export as reports of a city, by batches: one query for the ids of the
batch the city already holds, a flush for the departments and categories it does not have yet,
one statement per year to reserve reference numbers, and the reports handed straight to the
driver (see tellcity.imports.bulk).

An imported report's history is the report row alone: its created_at, closed_at and
resolved_at, its status, and the source's status in attributes["source_status"]. No
ReportEvent is written: the export tells nothing more, and private "created" and
"status_change" events repeating those columns would double or triple the rows an import writes
(and halve its speed) for no reader.
"""

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np
import shapely
import sqlalchemy as sa
from shapely.geometry import shape
from sqlalchemy.dialects import postgresql, sqlite

from tellcity.categories.models import Category
from tellcity.cities.models import City, Zone
from tellcity.core.slugs import free_slug
from tellcity.departments.models import Department
from tellcity.extensions import db
from tellcity.geo.places import zone_id_at
from tellcity.geo.shapes import to_geojson
from tellcity.imports.bulk import BulkInsert
from tellcity.imports.mapping import ImportMapping
from tellcity.imports.parsing import Change, Row, Skip, Skipped
from tellcity.reports import versions
from tellcity.reports.lifecycle import REASON_CODES
from tellcity.reports.models import Report, ReportSequence
from tellcity.reports.states import Kind, Priority, Source, Status
from tellcity.stats import daily

if TYPE_CHECKING:
    from tellcity.imports.services import ImportResult

#: How far an imported city's boundary reaches beyond its outermost report, in degrees
#: (about 500 m of latitude).
BOUNDARY_BUFFER = 0.005
#: The columns of the reports table an import fills, in the order of ReportWriter._report; the
#: others take their defaults (see BulkInsert).
REPORT_COLUMNS = (
    "city_id",
    "reference",
    "kind",
    "category_id",
    "status",
    "priority",
    "department_id",
    "zone_id",
    "lat",
    "lon",
    "address",
    "description",
    "attributes",
    "support_count",
    "close_reason",
    "source",
    "external_id",
    "locale",
    "is_hidden",
    "created_at",
    "updated_at",
    "resolved_at",
    "closed_at",
)
#: Those whose values are converted once per distinct value (see BulkInsert).
REPORT_BOUND = ("attributes", "is_hidden", "created_at", "updated_at", "resolved_at", "closed_at")
#: The triage department created for rows that name no agency, when the city has none.
TRIAGE = ("unassigned", "Unassigned")


def reserve_numbers(city_id: int, year: int, count: int) -> int:
    """Reserve `count` consecutive reference numbers of the city's `year` in one atomic
    upsert (safe beside concurrent submissions) and return the first of them."""
    table = ReportSequence.__table__
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(table)
        .values(city_id=city_id, year=year, last_number=count)
        .on_conflict_do_update(
            index_elements=["city_id", "year"], set_={"last_number": table.c.last_number + count}
        )
        .returning(table.c.last_number)
    )
    return db.session.execute(statement).scalar_one() - count + 1


def city_boundary(hull) -> tuple[dict, float, float, int]:
    """The boundary (GeoJSON) of an imported city whose reports span the shapely geometry
    `hull`, slightly buffered, with its centre (lat, lon) and a map zoom that shows it."""
    area = hull.buffer(BOUNDARY_BUFFER, quad_segs=2)
    centre = area.centroid
    min_lon, min_lat, max_lon, max_lat = area.bounds
    span = max(max_lon - min_lon, max_lat - min_lat)
    zoom = int(min(16, max(3, np.floor(np.log2(360 / span)) + 1)))
    return to_geojson(area), centre.y, centre.x, zoom


@dataclass(slots=True)
class _Category:
    """What a report takes from its category."""

    id: int
    kind: str
    priority: int


class ReportWriter:
    """Writes batches of rows as reports of one city, creating the city (when `city` is
    None), its departments and its categories as the rows need them, and counts what it does
    in `result`."""

    def __init__(
        self,
        mapping: ImportMapping,
        city: City | None,
        result: "ImportResult",
        *,
        city_name: str | None = None,
    ):
        self.mapping = mapping
        self.city = city
        self.result = result
        self.city_name = city_name or mapping.city.name
        #: Convex hull of the positions imported into an imported city (its boundary grows
        #: to cover them).
        self.hull = None
        #: The slugs of the city's departments and the codes of its categories (taken), then
        #: both by the names the export uses.
        self.departments: set[str] = set()
        self.categories: set[str] = set()
        self.department_by_name: dict[str, int] = {}
        self.category_by_name: dict[str, _Category] = {}
        self.triage_id: int | None = None
        self.has_zones = False
        self.area = None
        dialect = db.session.get_bind().dialect
        self.reports = BulkInsert(Report.__table__, REPORT_COLUMNS, REPORT_BOUND, dialect)
        self._not_hidden = self.reports.bind("is_hidden", False)
        self._attributes: dict[str, object] = {}
        if city is not None:
            self._load_city()

    def _load_city(self) -> None:
        """Read what the city already has. Plain copies of its columns are kept: the city
        row expires at each batch's commit."""
        self.city_id = city_id = self.city.id
        self.prefix, self.locale = self.city.reference_prefix, self.city.locale
        self.is_imported = self.city.is_imported
        # An export's name is that of a department or category, else its slug or code (a
        # file that names them by code); a new name is a new one, never one merged by slug.
        departments = db.session.execute(
            sa.select(Department.slug, Department.name, Department.id).where(
                Department.city_id == city_id
            )
        ).all()
        self.departments = {slug for slug, _, _ in departments}
        self.department_by_name = {slug: id for slug, _, id in departments}
        self.department_by_name.update({name: id for _, name, id in departments})
        self.triage_id = db.session.scalar(
            sa.select(Department.id).where(Department.city_id == city_id, Department.is_triage)
        )
        rows = db.session.execute(
            sa.select(
                Category.code,
                Category.name_en,
                Category.name_fr,
                Category.id,
                Category.kind,
                Category.default_priority,
            ).where(Category.city_id == city_id)
        ).all()
        self.categories = {code for code, *_ in rows}
        self.category_by_name = {code: _Category(*values) for code, _, _, *values in rows}
        for _, name_en, name_fr, *values in rows:
            self.category_by_name[name_fr] = self.category_by_name[name_en] = _Category(*values)
        self.has_zones = (
            db.session.scalar(sa.select(Zone.id).where(Zone.city_id == city_id).limit(1))
            is not None
        )
        if not self.is_imported:
            # A city configured by hand keeps its limits: rows outside them are skipped.
            self.area = shape(self.city.boundary)
            shapely.prepare(self.area)
        self.zone = ZoneInfo(self.city.timezone)

    def add(self, rows: list[Row]) -> None:
        """Write the reports of `rows` that the city does not hold yet (flushed, not
        committed)."""
        rows = self._new_rows(rows)
        if self.city is None and rows:
            self._create_city(rows)
        elif self.city is not None:
            rows = self._inside(rows)
            if self.is_imported:
                self._grow_hull(rows)
        if not rows:
            return
        self._add_departments(rows)
        self._add_categories(rows)
        references = self._references(rows)
        values = [
            self._report(row, reference) for row, reference in zip(rows, references, strict=True)
        ]
        last_id = self._last_id()
        self.reports.execute(values)
        versions.bump(db.session, self.city.id)  # bulk rows: the flush's hook does not see them
        # Nor the statistics' aggregates: added set-based, for the batch's id range. The range
        # leads the search: by the city's or the source's index (which `+ 0` and `|| ''` keep
        # out), each batch would read every report of the city so far, the import quadratic.
        written = Report.__table__.c
        daily.add_reports(
            db.session.connection(),
            sa.and_(
                written.id.between((last_id or 0) + 1, self._last_id()),
                (written.city_id + 0) == self.city.id,
                written.source.concat("") == Source.IMPORT.value,
            ),
        )
        self.result.imported += len(rows)

    @staticmethod
    def _last_id() -> int:
        return db.session.scalar(sa.select(sa.func.max(Report.id))) or 0

    def finish(self) -> None:
        """After the last batch: an imported city's boundary covers every report imported."""
        if self.hull is None:
            return
        current = shape(self.city.boundary)
        if self.result.city_created:
            hull = self.hull  # the first batch's extent, now of all batches
        elif current.covers(self.hull):
            return
        else:
            hull = shapely.union(current, self.hull).convex_hull
        boundary, lat, lon, zoom = city_boundary(hull)
        self.city.boundary = boundary
        self.city.center_lat, self.city.center_lon, self.city.default_zoom = lat, lon, zoom

    def _new_rows(self, rows: list[Row]) -> list[Row]:
        """`rows` without those the city already holds, found with one query. (A city this
        import created holds only rows of this file, whose ids are unique already.)"""
        if self.city is None or self.result.city_created:
            return rows
        ids = [row.external_id for row in rows]
        known = set(
            db.session.scalars(
                sa.select(Report.external_id).where(
                    Report.city_id == self.city_id, Report.external_id.in_(ids)
                )
            )
        )
        self.result.already_imported += len(known)
        return [row for row in rows if row.external_id not in known] if known else rows

    def _inside(self, rows: list[Row]) -> list[Row]:
        """`rows` inside a city configured by hand; all of them for an imported city."""
        if self.area is None:
            return rows
        lats = np.fromiter((row.lat for row in rows), float, len(rows))
        lons = np.fromiter((row.lon for row in rows), float, len(rows))
        inside = shapely.intersects_xy(self.area, lons, lats)
        for row, keep in zip(rows, inside, strict=True):
            if not keep:
                self.result.skip(Skipped(Skip.OUTSIDE_CITY), row.line, row.fields or [])
        return [row for row, keep in zip(rows, inside, strict=True) if keep]

    def _create_city(self, rows: list[Row]) -> None:
        """The city of the mapping, around the positions of the first batch (see finish)."""
        defaults = self.mapping.city
        self._grow_hull(rows)
        boundary, lat, lon, zoom = city_boundary(self.hull)
        self.city = City(
            slug=self.result.city_slug,
            name=self.city_name,
            reference_prefix=defaults.reference_prefix,
            boundary=boundary,
            center_lat=lat,
            center_lon=lon,
            default_zoom=zoom,
            timezone=defaults.timezone,
            locale=defaults.locale,
            holiday_country=defaults.holiday_country,
            holiday_subdivision=defaults.holiday_subdivision,
            is_imported=True,
        )
        db.session.add(self.city)
        db.session.flush()
        self.result.city_created = True
        self.result.city_name = self.city.name
        self._load_city()

    def _grow_hull(self, rows: list[Row]) -> None:
        """Extend the convex hull of the imported positions with those of `rows`."""
        if not rows:
            return
        points = np.array([(row.lon, row.lat) for row in rows], dtype=float)
        if self.hull is not None:
            points = np.vstack([points, shapely.get_coordinates(self.hull)])
        self.hull = shapely.multipoints(points).convex_hull

    def _references(self, rows: list[Row]) -> list[str]:
        """The public references of `rows`, in order: numbers reserved in bulk, one statement
        per year of creation (in the city's time zone)."""
        year_of: dict = {}  # exports repeat the same minute
        years = []
        for row in rows:
            created_at = row.created_at
            year = year_of.get(created_at)
            if year is None:
                year = year_of[created_at] = created_at.astimezone(self.zone).year
            years.append(year)
        numbers = {}
        for year, count in Counter(years).items():
            numbers[year] = reserve_numbers(self.city_id, year, count)
        references = []
        for year in years:
            references.append(f"{self.prefix}-{year}-{numbers[year]:06d}")
            numbers[year] += 1
        return references

    def _report(self, row: Row, reference: str) -> tuple:
        """The reports-table values of one row, in the order of REPORT_COLUMNS."""
        bind = self.reports.bind
        category = self.category_by_name[row.category]
        status = row.status
        if status == Status.DUPLICATE:  # exports do not name the original
            self.result.changes[Change.DUPLICATE_WITHOUT_ORIGINAL] += 1
        for change in row.changes:
            self.result.changes[change] += 1
        closed_at = row.closed_at
        return (
            self.city_id,
            reference,
            category.kind,
            category.id,
            status.value,  # plain text: the driver adapts a str subclass more slowly
            category.priority,
            self.department_by_name[row.agency],
            zone_id_at(self.city, row.lat, row.lon) if self.has_zones else None,
            row.lat,
            row.lon,
            row.address,
            row.description,
            self._source_status(row.source_status),
            0,
            # Closing as not_actionable or rejected takes a reason code; the export gives none.
            "other" if status in REASON_CODES else None,
            Source.IMPORT.value,
            row.external_id,
            self.locale,
            self._not_hidden,
            bind("created_at", row.created_at),
            bind("updated_at", closed_at or row.created_at),
            bind("resolved_at", closed_at if status == Status.RESOLVED else None),
            bind("closed_at", closed_at),
        )

    def _source_status(self, source_status: str):
        """The bound `attributes` of a report whose source status is `source_status`."""
        try:
            return self._attributes[source_status]
        except KeyError:
            bound = self.reports.bind("attributes", {"source_status": source_status})
            self._attributes[source_status] = bound
            return bound

    def _add_departments(self, rows: list[Row]) -> None:
        """Create, with one flush, a department for each agency `rows` name that the city
        lacks (see _load_city), with a slug of its own, and note every agency's department."""
        known = self.department_by_name
        agencies = [name for name in dict.fromkeys(row.agency for row in rows) if name not in known]
        if "" in agencies:
            agencies.remove("")
            self.department_by_name[""] = self._triage()
        created = {}
        for name in agencies:
            slug = free_slug(name, self.departments)
            self.departments.add(slug)
            created[name] = Department(city_id=self.city_id, slug=slug, name=name, is_imported=True)
        if created:
            db.session.add_all(created.values())
            db.session.flush()
            for name, department in created.items():
                self.department_by_name[name] = department.id
                self.result.new_departments.append((name, department.slug))

    def _add_categories(self, rows: list[Row]) -> None:
        """Create, with one flush, a category for each name `rows` give that the city lacks
        (see _load_city), with a code of its own: problems, in the department of the first
        row's agency."""
        names = {row.category: row.agency for row in reversed(rows)}
        known = self.category_by_name
        created = {}
        for name in dict.fromkeys(row.category for row in rows):
            if name in known:
                continue
            code = free_slug(name, self.categories)
            self.categories.add(code)
            created[name] = Category(
                city_id=self.city_id,
                kind=Kind.PROBLEM,
                code=code,
                name_fr=name,
                name_en=name,
                department_id=self.department_by_name[names[name]],
                default_priority=Priority.NORMAL,
                is_imported=True,
            )
        if created:
            db.session.add_all(created.values())
            db.session.flush()
            for name, category in created.items():
                self.category_by_name[name] = _Category(category.id, Kind.PROBLEM, Priority.NORMAL)
                self.result.new_categories.append((name, category.code))

    def _triage(self) -> int:
        """The city's triage department, created ("Unassigned") if it has none."""
        if self.triage_id is None and TRIAGE[0] in self.departments:
            self.triage_id = self.department_by_name[TRIAGE[0]]
        if self.triage_id is None:
            slug, name = TRIAGE
            department = Department(
                city_id=self.city_id, slug=slug, name=name, is_triage=True, is_imported=True
            )
            db.session.add(department)
            db.session.flush()
            self.departments.add(slug)
            self.triage_id = self.department_by_name[name] = department.id
            self.result.new_departments.append((name, slug))
        return self.triage_id
