"""Feeds and open data: an Atom feed of the latest public reports (optionally of one zone or
category), and the public reports as CSV or GeoJSON. Public fields only, contacts masked."""

import json
from xml.etree import ElementTree as ET

import sqlalchemy as sa
from flask import Blueprint, Response, request, url_for
from flask_babel import get_locale

from tellcity.categories.models import Category
from tellcity.cities.models import Zone
from tellcity.cities.queries import current_city
from tellcity.core.csv import csv_chunks
from tellcity.core.text import mask_contacts
from tellcity.extensions import db
from tellcity.reports.models import Report
from tellcity.reports.queries import is_public
from tellcity.reports.states import STATUS_LABELS, open311_status

bp = Blueprint("feeds", __name__)
ATOM = "http://www.w3.org/2005/Atom"
FEED_SIZE = 50
OPEN_DATA_COLUMNS = (
    "reference",
    "kind",
    "category",
    "status",
    "open311_status",
    "zone",
    "lat",
    "lon",
    "address",
    "description",
    "support_count",
    "created_at",
    "closed_at",
)


def _public_rows(city, zone_slug: str = "", category_code: str = ""):
    query = (
        sa.select(Report, Category.code, Zone.name)
        .join(Category, Category.id == Report.category_id)
        .outerjoin(Zone, Zone.id == Report.zone_id)
        .where(Report.city_id == city.id, is_public())
        .order_by(Report.created_at.desc(), Report.id.desc())
        .limit(FEED_SIZE)
    )
    if zone_slug:
        query = query.where(Zone.slug == zone_slug)
    if category_code:
        query = query.where(Category.code == category_code)
    return db.session.execute(query).all()


@bp.get("/feeds/reports.atom")
def atom():
    """The latest public reports: ?zone=<slug> and/or ?category=<code> narrow it."""
    city = current_city()
    zone, category = request.args.get("zone", "")[:64], request.args.get("category", "")[:64]
    feed = ET.Element("feed", xmlns=ATOM)
    ET.SubElement(feed, "title").text = f"TellCity — {city.name}"
    ET.SubElement(feed, "id").text = url_for(
        "feeds.atom", zone=zone or None, category=category or None, _external=True
    )
    ET.SubElement(feed, "link", href=url_for("reports.index", _external=True))
    rows = _public_rows(city, zone, category)
    updated = max((r.updated_at for r, _c, _z in rows), default=city.created_at)
    ET.SubElement(feed, "updated").text = updated.isoformat()
    for report, _code, zone_name in rows:
        _entry(feed, report, zone_name)
    body = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return Response(body, mimetype="application/atom+xml")


def _entry(feed, report: Report, zone_name: str | None) -> None:
    entry = ET.SubElement(feed, "entry")
    url = url_for("reports.show", reference=report.reference, _external=True)
    title = f"{report.reference} — {report.category.name(str(get_locale()))}"
    ET.SubElement(entry, "title").text = title
    ET.SubElement(entry, "id").text = url
    ET.SubElement(entry, "link", href=url)
    ET.SubElement(entry, "updated").text = report.updated_at.isoformat()
    ET.SubElement(entry, "published").text = report.created_at.isoformat()
    where = ", ".join(part for part in (report.address, zone_name) if part)
    summary = f"{STATUS_LABELS[report.status]} · {where}\n{mask_contacts(report.description)}"
    ET.SubElement(entry, "summary").text = summary.strip()


def _open_data_query(city) -> sa.Select:
    query = (
        sa.select(
            Report.reference,
            Report.kind,
            Category.code.label("category"),
            Report.status,
            Zone.name.label("zone"),
            Report.lat,
            Report.lon,
            Report.address,
            Report.description,
            Report.support_count,
            Report.created_at,
            Report.closed_at,
        )
        .join(Category, Category.id == Report.category_id)
        .outerjoin(Zone, Zone.id == Report.zone_id)
        .where(Report.city_id == city.id, is_public())
        .order_by(Report.id)
    )
    if zone := request.args.get("zone", "")[:64]:
        query = query.where(Zone.slug == zone)
    if category := request.args.get("category", "")[:64]:
        query = query.where(Category.code == category)
    return query


def _open_data(engine, query):
    """Public rows one by one through a server-side cursor: a million never sit in memory."""
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=2000).execute(query)
        for row in result.mappings():
            yield {
                **row,
                "zone": row["zone"] or "",
                "open311_status": open311_status(row["status"]),
                "description": mask_contacts(row["description"]),
                "created_at": row["created_at"].isoformat(),
                "closed_at": row["closed_at"].isoformat() if row["closed_at"] else "",
            }


@bp.get("/open-data/reports.csv")
def open_data_csv():
    rows = _open_data(db.engine, _open_data_query(current_city()))
    response = Response(csv_chunks(OPEN_DATA_COLUMNS, rows), mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=reports.csv"
    return response


@bp.get("/open-data/reports.geojson")
def open_data_geojson():
    rows = _open_data(db.engine, _open_data_query(current_city()))

    def chunks():
        yield '{"type": "FeatureCollection", "features": ['
        for n, row in enumerate(rows):
            point = (
                None
                if row["lat"] is None
                else {"type": "Point", "coordinates": [row["lon"], row["lat"]]}
            )
            properties = {k: v for k, v in row.items() if k not in ("lat", "lon")}
            feature = {"type": "Feature", "geometry": point, "properties": properties}
            yield ("," if n else "") + json.dumps(feature, ensure_ascii=False, default=str)
        yield "]}"

    return Response(chunks(), mimetype="application/geo+json")
