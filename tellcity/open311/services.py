"""Open311 writes: turning a POSTed service request into a Submission for
tellcity.reports.services.submit_report. (API keys are tellcity.accounts.api_keys.)
"""

from tellcity.categories.models import Category
from tellcity.cities.models import City
from tellcity.core.errors import Invalid
from tellcity.geo.geocoding import reverse_address, search_address
from tellcity.reports.services import Submission
from tellcity.reports.states import Source

#: Where a request's media_url is kept among the report's attributes (staff only).
MEDIA_URL_KEY = "_media_url"


def new_submission(
    city: City, category: Category, data: dict, photos: list, *, locale: str
) -> Submission:
    """A Submission from a loaded POST requests (tellcity.open311.schemas.NewRequestSchema),
    its answers already checked. Raises Invalid when the location cannot be found."""
    lat, lon, address = locate(city, data)
    name = " ".join(filter(None, (data.get("first_name"), data.get("last_name"))))
    answers = dict(data.get("answers") or {})
    if data.get("media_url"):
        # Kept for the staff, never fetched nor shown to the public (we cannot vouch for it).
        answers[MEDIA_URL_KEY] = data["media_url"]
    return Submission(
        category=category,
        lat=lat,
        lon=lon,
        address=address,
        description=data.get("description", ""),
        attributes=answers or None,
        reporter_name=name or None,
        reporter_email=data.get("email"),
        reporter_phone=data.get("phone"),
        photos=photos,
        locale=locale,
        source=Source.OPEN311,
    )


def locate(city: City, data: dict) -> tuple[float, float, str]:
    """Position and address of a request: lat and long as sent (the address sent with them,
    else the geocoder's), or the first place in the city matching address_string. Raises
    Invalid when the address is not found or the geocoder cannot be reached, and for an
    address_id alone: there is no address repository here to look it up in."""
    if "lat" in data:
        address = data.get("address_string") or reverse_address(data["lat"], data["long"])
        return data["lat"], data["long"], address or ""
    if not data.get("address_string"):
        raise Invalid(
            "address_id is not known here: send lat and long, or address_string",
            code="unknown_address_id",
            field="address_id",
        )
    found = search_address(data["address_string"], city, limit=1)
    if not found.available:
        raise Invalid(
            "the address cannot be looked up just now: send lat and long",
            code="geocoder_unavailable",
            field="address_string",
        )
    if not found.places:
        raise Invalid(
            f"no such address in {city.name}", code="address_not_found", field="address_string"
        )
    place = found.places[0]
    return place.lat, place.lon, place.label
