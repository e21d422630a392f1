"""Feeds and open data: an Atom feed of the latest public reports (optionally of one zone or
category), and the public reports as CSV or GeoJSON. Public fields only, contacts masked."""

import json
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, request, url_for
from flask_babel import get_locale

from tellcity.cities.queries import current_city
from tellcity.core.csv import csv_chunks
from tellcity.core.text import public_text
from tellcity.core.xml import to_bytes
from tellcity.reports import queries
from tellcity.reports.models import Report
from tellcity.reports.queries import OPEN_DATA_COLUMNS
from tellcity.reports.states import STATUS_LABELS

bp = Blueprint("feeds", __name__)
ATOM = "http://www.w3.org/2005/Atom"
FEED_SIZE = 50


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
    rows = queries.latest_public(city, zone=zone, category=category, limit=FEED_SIZE)
    updated = max((r.updated_at for r, _c, _z in rows), default=city.created_at)
    ET.SubElement(feed, "updated").text = updated.isoformat()
    for report, _code, zone_name in rows:
        _entry(feed, report, zone_name)
    return Response(to_bytes(feed), mimetype="application/atom+xml")


def _entry(feed, report: Report, zone_name: str | None) -> None:
    entry = ET.SubElement(feed, "entry")
    url = url_for("reports.show", reference=report.reference, _external=True)
    title = f"{report.reference} — {report.category.name(str(get_locale()))}"
    ET.SubElement(entry, "title").text = title
    ET.SubElement(entry, "id").text = url
    ET.SubElement(entry, "link", href=url)
    ET.SubElement(entry, "updated").text = report.updated_at.isoformat()
    ET.SubElement(entry, "published").text = report.created_at.isoformat()
    text = public_text(report)
    where = ", ".join(part for part in (text.address, zone_name) if part)
    summary = f"{STATUS_LABELS[report.status]} · {where}\n{text.description}"
    ET.SubElement(entry, "summary").text = summary.strip()


def _open_data_rows():
    """The public reports of the city asked for, of ?zone=<slug> and ?category=<code>."""
    zone, category = request.args.get("zone", "")[:64], request.args.get("category", "")[:64]
    return queries.open_data_rows(current_city(), zone=zone, category=category)


@bp.get("/open-data/reports.csv")
def open_data_csv():
    rows = _open_data_rows()
    response = Response(csv_chunks(OPEN_DATA_COLUMNS, rows), mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=reports.csv"
    return response


@bp.get("/open-data/reports.geojson")
def open_data_geojson():
    rows = _open_data_rows()

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
