"""GET /api/v1/stats: every figure of the statistics pages as one JSON document, with what
each means. For the mayor's office and administrators (their session), or a client holding an
API key with the "stats" scope (`Authorization: Bearer <key>` or `X-Api-Key: <key>`)."""

from flask import Blueprint, abort, jsonify, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from tellcity.accounts.api_keys import authenticate, may_use, presented_key
from tellcity.cities.models import City
from tellcity.cities.queries import current_city
from tellcity.stats import services
from tellcity.stats.schemas import StatsDocumentSchema
from tellcity.stats.views import STATS_ROLES, filters_from_request

bp = Blueprint("stats_api", __name__, url_prefix="/api/v1")
SCOPE = "stats"


@bp.get("/stats")
def stats():
    """The statistics of `city` (the key's or the user's city, by default) for the range
    `from` to `to` (local dates, both included; by default the last 30 days), optionally for one
    `department`, `category`, `zone` or `kind`, by `period` (day, week or month)."""
    city = _allowed_city()
    filters = filters_from_request(city)
    stats = services.statistics(filters, locale=str(get_locale()))
    document = StatsDocumentSchema().dump(stats)
    response = jsonify(document)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _allowed_city() -> City:
    """The city asked for, if the caller may read its statistics: 401 without credentials or
    with a key that is not valid, 403 for anyone else than the mayor's office, administrators
    and keys with the stats scope, and for another city than theirs; 404 for no such city."""
    key = presented_key()
    if key is not None:
        api_key = authenticate(key)
        if api_key is None:
            _unauthorized(_("This API key is not valid."))
        city = _requested_city(api_key.city_id)
        if not may_use(api_key, city, SCOPE):
            abort(403, description=_("This API key may not read statistics."))
        return city
    if not current_user.is_authenticated:
        _unauthorized(_("Sign in, or give an API key with the stats scope."))
    if current_user.role not in STATS_ROLES:
        abort(403, description=_("Statistics are for the mayor's office and administrators."))
    return _requested_city(current_user.city_id)


def _requested_city(own_city_id: int | None) -> City:
    """?city=slug, else the caller's own city, else the default city. A caller tied to one
    city gets a 403 for any other."""
    city = current_city(request.args.get("city"), own_city_id=own_city_id)
    if own_city_id is not None and city.id != own_city_id:
        abort(403, description=_("These statistics are of another city."))
    return city


def _unauthorized(message: str) -> None:
    challenge = WWWAuthenticate("bearer", {"realm": "TellCity statistics"})
    raise Unauthorized(message, www_authenticate=challenge)
