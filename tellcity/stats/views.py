"""The statistics pages of the mayor's office and administrators, under /staff/stats: the
overview, a department's drill-down, the printable monthly summary, and every table as CSV or
JSON with the same filters."""

from datetime import date, timedelta

from flask import Blueprint, Response, abort, jsonify, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import ValidationError

from tellcity.accounts.models import Role
from tellcity.cities.models import City
from tellcity.cities.queries import current_city
from tellcity.core.auth import staff_required
from tellcity.core.csv import csv_text
from tellcity.core.errors import Invalid
from tellcity.core.formatting import format_change, format_value, formatting
from tellcity.core.params import int_param
from tellcity.stats import queries, services
from tellcity.stats.definitions import DEFINITIONS
from tellcity.stats.figures import AGE_BUCKETS
from tellcity.stats.periods import last_days, last_month, local_today, month_range
from tellcity.stats.queries import StatsFilters
from tellcity.stats.schemas import TABLES, StatsArgsSchema, headline_rows

bp = Blueprint("stats", __name__, url_prefix="/staff/stats")

STATS_ROLES = (Role.MAYOR, Role.ADMIN)


@bp.get("/")
@staff_required(*STATS_ROLES)
def index():
    city = staff_city()
    filters = filters_from_request(city)
    return _page("stats/index.html", filters)


@bp.get("/departments/<int:department_id>")
@staff_required(*STATS_ROLES)
def department(department_id: int):
    """One department: its figures, and its categories and zones."""
    city = staff_city()
    found = queries.city_department(city, department_id)
    if found is None:
        abort(404)
    filters = filters_from_request(city, department=str(found.id))
    return _page("stats/department.html", filters)


@bp.get("/monthly")
@staff_required(*STATS_ROLES)
def monthly():
    """The printable summary of a calendar month (?month=YYYY-MM; by default the last one)."""
    city = staff_city()
    month = _month(request.args.get("month", ""), city)
    dates = month_range(month, city.timezone)
    filters = filters_from_request(city, first=dates.first, last=dates.last, period="day")
    following = (month + timedelta(days=32)).replace(day=1)
    return _page(
        "stats/monthly.html",
        filters,
        month=month,
        previous_month=(month - timedelta(days=1)).replace(day=1),
        next_month=following if following <= local_today(city.timezone) else None,
    )


@bp.get("/export/<table>.<fmt>")
@staff_required(*STATS_ROLES)
def export(table: str, fmt: str):
    """One table of the statistics, filtered as the page was, as CSV or JSON."""
    if table not in TABLES or fmt not in ("csv", "json"):
        abort(404)
    filters = filters_from_request(staff_city())
    stats = services.statistics(filters, locale=str(get_locale()))
    rows = TABLES[table].dump(stats)
    if fmt == "json":
        computed_at = stats.computed_at.isoformat()
        response = jsonify(table=table, **filters.to_args(), computed_at=computed_at, rows=rows)
    else:
        response = Response(csv_text(TABLES[table].columns, rows), mimetype="text/csv")
    name = f"{filters.city.slug}-{table}-{filters.dates.first}-{filters.dates.last}.{fmt}"
    response.headers["Content-Disposition"] = f"attachment; filename={name}"
    response.headers["Cache-Control"] = "no-store"
    return response


# --- Helpers shared with the API ---------------------------------------------------------------


def staff_city() -> City:
    """The signed-in user's city, whatever ?city= says; an administrator of every city picks
    one with ?city=slug (by default, the default city)."""
    own = current_user.city_id
    return current_city(None if own else request.args.get("city"), own_city_id=own)


def filters_from_request(city: City, **overrides) -> StatsFilters:
    """The filters of the query string, with `overrides` (first, last, department, period...)
    taking precedence. Raises Invalid for parameters that make no sense."""
    try:
        # A form's "All" choices come as empty values: the same as no filter.
        given = {name: value for name, value in request.args.items() if value.strip()}
        args = StatsArgsSchema().load(given)
    except ValidationError as error:
        name, messages = next(iter(error.normalized_messages().items()))
        raise Invalid(f"{name}: {' '.join(map(str, messages))}", field=name) from None
    args["first"], args["last"] = args.pop("from_"), args.pop("to")
    args.pop("city")
    return queries.make_filters(city, **{**args, **overrides})


def _month(value: str, city: City) -> date:
    """The first day of the month YYYY-MM, or of the month before this one."""
    if not value:
        return last_month(city.timezone)
    year, _dash, month = value.partition("-")
    year, month = int_param(year, minimum=1, maximum=9999), int_param(month, minimum=1, maximum=12)
    if year is None or month is None:
        raise Invalid(_("A month reads YYYY-MM."), field="month")
    return date(year, month, 1)


def _page(template: str, filters: StatsFilters, **context):
    stats = services.statistics(filters, locale=str(get_locale()))
    args = filters.to_args()
    year = last_days(filters.city.timezone, services.YEAR_DAYS)
    return render_template(
        template,
        stats=stats,
        filters=filters,
        headline=headline_rows(stats.headline, stats.previous),
        choices=queries.filter_choices(filters.city),
        # The same filters for another department, or for all of them.
        drill_args={name: value for name, value in args.items() if name != "department"},
        city_arg={"city": args["city"]} if current_user.city_id is None else {},
        # The form's link to the last 365 days (the worker keeps them computed).
        year_args={"from": year.first.isoformat(), "to": year.last.isoformat()},
        **context,
    )


# --- Formatting for the templates -----------------------------------------------------------


def age_label(bucket: tuple[int, int | None]) -> str:
    low, high = bucket
    if high is None:
        return _("%(low)s days and more", low=low)
    if low == 0:
        return _("under %(high)s days", high=high)
    return _("%(low)s to %(high)s days", low=low, high=high)


#: The headline's figures: label, how each is shown, and which way is better (+1 up, -1 down,
#: 0 neither).
HEADLINE = {
    "received": (_l("Received"), "count", 0),
    "closed": (_l("Closed"), "count", 1),
    "backlog": (_l("Backlog"), "count", -1),
    "median_time_to_close": (_l("Median time to close"), "duration", -1),
    "sla_compliance": (_l("Deadlines met"), "rate", 1),
    "confirmed_fix_rate": (_l("Fixes confirmed by residents"), "rate", 1),
}


@bp.context_processor
def _formatting() -> dict:
    return {
        **formatting(),
        "format_value": format_value,
        "format_change": format_change,
        "HEADLINE": HEADLINE,
        "age_label": age_label,
        "AGE_BUCKETS": AGE_BUCKETS,
        "DEFINITIONS": DEFINITIONS,
        "TABLES": TABLES,
    }
