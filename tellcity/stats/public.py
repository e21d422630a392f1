"""The public statistics page, GET /stats: what anyone may know of how the city handles its
residents' reports, without signing in. Volumes this month and last, the open backlog, the
last 12 months, the usual times per department and the busiest categories, of public reports
only (as the public lists and the open data count them), with links to the open data.

Only figures that say nothing of one report or one person: no reporter, note, staff member or
place (no hotspots); and no share of deadlines met, since the deadlines are internal targets
the public site does not show. The figures are the snapshots the worker keeps computed
(tellcity.stats.services.public_views), so the page may be cached for a minute."""

from flask import Blueprint, make_response, render_template
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from tellcity.cities.queries import current_city
from tellcity.core.formatting import formatting
from tellcity.stats import services
from tellcity.stats.definitions import DEFINITIONS, PUBLIC_SCOPE

bp = Blueprint("public_stats", __name__)

#: How long a browser or a shared cache may keep the page: the figures themselves are
#: recomputed every few minutes.
MAX_AGE = 60
#: The figures the page shows, by their name in DEFINITIONS, whose definitions it gives.
FIGURES = {
    "received": _l("Received"),
    "resolved": _l("Resolved"),
    "closed": _l("Closed"),
    "backlog": _l("Open now"),
    "series": _l("The last 12 months"),
    "time_to_acknowledge": _l("Median time to acknowledge"),
    "time_to_close": _l("Median time to close"),
    "median": _l("Median"),
    "top_categories": _l("Top categories"),
    "computed_at": _l("Figures as of"),
}


@bp.get("/stats")
def index():
    city = current_city()
    locale = str(get_locale())
    views = services.public_views(city)
    this_month, last_month, months = (
        services.statistics(filters, locale=locale) for filters in views
    )
    page = render_template(
        "stats/public.html",
        city=city,
        this_month=this_month,
        last_month=last_month,
        months=months,
        # Every figure of the page, the oldest first.
        computed_at=min(stats.computed_at for stats in (this_month, last_month, months)),
        # Reports without a department (none, routing gives each one) have no public name.
        departments=[row for row in months.departments if row.id is not None],
        definitions={label: DEFINITIONS[key] for key, label in FIGURES.items()},
        scope=PUBLIC_SCOPE,
    )
    return _cached(make_response(page))


def _cached(response):
    """Cacheable for MAX_AGE seconds: by any cache when the page is the same for every visitor
    of its language; by the browser alone for a signed-in user, whose page carries their own
    links and form token."""
    if current_user.is_authenticated:
        response.cache_control.private = True
    else:
        response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    response.vary.update(("Cookie", "Accept-Language"))  # the language, and who is signed in
    return response


bp.context_processor(formatting)
