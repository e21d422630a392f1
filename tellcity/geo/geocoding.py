"""Addresses from positions and positions from addresses, through one geopy geocoder chosen by
configuration: the French national address base (BANFrance) by default.

A geocoder that is down, slow or answering nonsense never breaks a page: searches say they are
unavailable and the form falls back to "position only". A report sent with a position and no
address is filed without waiting for the geocoder: the worker fills its address in later
(`fill_missing_addresses`).

geopy is imported on first use: with its adapters (which import requests and aiohttp when they
are installed) it weighs 7 to 16 MB in every web worker, most of which never geocode.
"""

import functools
import inspect
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import current_app

from tellcity.cities.models import City
from tellcity.core.db import utcnow
from tellcity.extensions import db
from tellcity.geo.places import is_inside
from tellcity.reports.models import Report
from tellcity.reports.states import Source

if TYPE_CHECKING:
    from geopy.geocoders.base import Geocoder
    from geopy.location import Location

#: The BAN refuses queries shorter or longer than this, and more results than this.
QUERY_MIN, QUERY_MAX = 3, 200
RESULTS_MAX = 20
#: Reports older than this are not filled in: they were imported, or the geocoder has had
#: every chance to answer for them.
FILL_MAX_AGE = timedelta(days=7)
ADDRESS_MAX = 300


def _unavailable() -> tuple[type[Exception], ...]:
    """What an unreachable, slow or confused geocoder raises: geopy's own errors (timeouts and
    refused connections included), socket errors that slip through, and malformed answers."""
    from geopy.exc import GeopyError

    return (GeopyError, OSError, LookupError, ValueError)


@dataclass(frozen=True)
class Place:
    """A geocoded address."""

    lat: float
    lon: float
    label: str


@dataclass(frozen=True)
class GeocodeResult:
    """The places found, and whether the geocoder answered at all (False: it was unreachable,
    too slow or erred, so an empty list means nothing)."""

    places: tuple[Place, ...]
    available: bool = True


class _Unavailable(Exception):
    """The geocoder could not be asked."""


def geocoder() -> "Geocoder":
    """The configured geocoder: GEOCODER names a geopy service, GEOCODER_OPTIONS are passed to
    its constructor. Raises geopy's GeocoderNotFound for an unknown name (a configuration
    error, not an outage).

    Built once per process and configuration, and kept in the app: a geocoder's client holds
    a pool of open connections to the service and one TLS context. Built for each lookup, it
    cost a new TLS context (loading the system's certificates: 29 ms of the 35 ms of CPU a
    lookup took) and a new connection every time."""
    config = current_app.config
    key = (
        config["GEOCODER"],
        config["GEOCODER_TIMEOUT"],
        config["GEOCODER_USER_AGENT"],
        repr(sorted(config["GEOCODER_OPTIONS"].items())),
    )
    built = current_app.extensions.setdefault("tellcity.geocoders", {})
    with _BUILDING:
        if key not in built:
            built[key] = _build_geocoder(config)
        return built[key]


#: Two threads of a worker asking for the first time build one geocoder, not two.
_BUILDING = threading.Lock()


def _build_geocoder(config) -> "Geocoder":
    from geopy.adapters import RequestsAdapter
    from geopy.geocoders import get_geocoder_for_service

    options = {
        "timeout": config["GEOCODER_TIMEOUT"],
        "user_agent": config["GEOCODER_USER_AGENT"],
        # Keep-alive connections (requests' pool), one attempt: a timeout then means
        # GEOCODER_TIMEOUT seconds, not three times that with the adapter's default retries.
        "adapter_factory": functools.partial(RequestsAdapter, max_retries=0),
        **config["GEOCODER_OPTIONS"],
    }
    return get_geocoder_for_service(config["GEOCODER"])(**options)


def search_address(query: str, city: City, limit: int = 5) -> GeocodeResult:
    """Up to `limit` addresses matching the query inside the city limits, best first.

    The city's name is added to the query unless it is there, so that "rue de la Paix" finds
    the one in this city rather than the best known in the country. Never raises for the
    geocoder's sake: `available` is False when it could not answer.
    """
    text = " ".join(query.split())[:QUERY_MAX]
    if len(text) < QUERY_MIN:
        return GeocodeResult(())
    if city.name.casefold() not in text.casefold():
        text = f"{text} {city.name}"[:QUERY_MAX]
    from geopy.exc import GeocoderQueryError

    service = geocoder()
    try:
        # Ask for more than needed: some of the answers may lie outside the city.
        locations = _geocode(service, text, min(limit * 2, RESULTS_MAX)) or []
    except GeocoderQueryError:  # the geocoder found the query malformed: nothing matches
        return GeocodeResult(())
    except _unavailable() as error:
        current_app.logger.warning("Geocoder unavailable for a search: %s", error)
        return GeocodeResult((), available=False)
    places = [_place(location) for location in locations]
    inside = [place for place in places if is_inside(city, place.lat, place.lon)]
    return GeocodeResult(tuple(inside[:limit]))


def _geocode(service: "Geocoder", text: str, limit: int) -> "list[Location] | None":
    """Ask for several results; geocoders whose API has no limit give what they give."""
    if "limit" in inspect.signature(service.geocode).parameters:
        return service.geocode(text, exactly_one=False, limit=limit)
    return service.geocode(text, exactly_one=False)


def _place(location: "Location") -> Place:
    return Place(location.latitude, location.longitude, location.address)


def reverse_address(lat: float, lon: float) -> str | None:
    """The address of a position, or None when the geocoder knows none or cannot be asked."""
    try:
        return _reverse(lat, lon)
    except _Unavailable:
        return None


def _reverse(lat: float, lon: float) -> str | None:
    """The address of a position, None when unknown; raises _Unavailable when the geocoder
    could not answer."""
    from geopy.exc import GeocoderQueryError

    try:
        location = geocoder().reverse((lat, lon), exactly_one=True)
    except GeocoderQueryError:  # a position the geocoder refuses to look at has no address
        return None
    except _unavailable() as error:
        current_app.logger.warning("Geocoder unavailable for a reverse lookup: %s", error)
        raise _Unavailable from error
    if location is None or not location.address:
        return None
    return str(location.address).strip()[:ADDRESS_MAX] or None


def fill_missing_addresses(batch: int = 100) -> int:
    """Give an address to recent reports that have a position but none (submissions never
    wait on the reverse geocoder), newest first, at most `batch` of them; flush and return
    how many were filled. Stops at the first failure to reach the geocoder: the next run
    tries again. Imported reports are left as their source had them. The caller commits."""
    reports = db.session.scalars(
        sa.select(Report)
        .where(
            Report.address == "",
            Report.lat.is_not(None),
            Report.source != Source.IMPORT,
            Report.created_at >= utcnow() - FILL_MAX_AGE,
        )
        .order_by(Report.created_at.desc(), Report.id.desc())
        .limit(batch)
    ).all()
    filled = 0
    for report in reports:
        try:
            address = _reverse(report.lat, report.lon)
        except _Unavailable:
            break
        if address:
            report.address = address
            filled += 1
    db.session.flush()
    return filled
