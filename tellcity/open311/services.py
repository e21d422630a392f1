"""Open311 writes: a POSTed service request translated into the Submission every front end
files (tellcity.reports.submission), its checks and errors included. Only the spec's words
are translated here: service_code, lat/long, address_string, first_name and last_name,
attribute[code], media_url. (API keys are tellcity.accounts.api_keys.)
"""

from tellcity.core.errors import Invalid
from tellcity.open311.schemas import plain_text
from tellcity.reports.states import Source
from tellcity.reports.submission import Submission


def new_submission(
    data: dict, photos: list, *, locale: str, idempotency_key: str | None = None
) -> Submission:
    """A Submission from a loaded POST requests (tellcity.open311.schemas.NewRequestSchema).
    Raises Invalid for an address_id alone: there is no address repository here to look it
    up in."""
    if "lat" not in data and not data.get("address_string") and data.get("address_id"):
        raise Invalid(
            "address_id is not known here: send lat and long, or address_string",
            code="unknown_address_id",
            field="address_id",
        )
    name = " ".join(filter(None, (data.get("first_name"), data.get("last_name"))))
    answers = {
        code: [plain_text(value) for value in values]
        for code, values in data.get("attribute", {}).items()
    }
    return Submission(
        category=data["service_code"],
        lat=data.get("lat"),
        lon=data.get("long"),
        address=data.get("address_string", ""),
        description=data.get("description", ""),
        answers=answers,
        reporter_name=name or None,
        reporter_email=data.get("email"),
        reporter_phone=data.get("phone"),
        media_url=data.get("media_url"),
        photos=photos,
        locale=locale,
        source=Source.OPEN311,
        idempotency_key=idempotency_key,
    )
