"""What goes in and out of the statistics: the query parameters, the JSON document of
`GET /api/v1/stats`, and the tables the pages export as CSV and JSON. Every output is an
aggregate or a public reference: no schema here has a field for anything about a reporter."""

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import get_timezone
from marshmallow import EXCLUDE, Schema, fields, validate

from tellcity.core.i18n import iso_local
from tellcity.reports.states import Kind
from tellcity.stats.definitions import DEFINITIONS
from tellcity.stats.figures import AGE_BUCKETS, Headline
from tellcity.stats.periods import PERIODS
from tellcity.stats.queries import Overview


class StatsArgsSchema(Schema):
    """The query string: `from` and `to` local dates (both included), `department`,
    `category`, `zone` (an id, or a slug or code), `kind` and `period`."""

    class Meta:
        unknown = EXCLUDE

    city = fields.String(load_default=None, validate=validate.Length(max=64))
    from_ = fields.Date(data_key="from", load_default=None)
    to = fields.Date(load_default=None)
    department = fields.String(load_default=None, validate=validate.Length(max=64))
    category = fields.String(load_default=None, validate=validate.Length(max=64))
    zone = fields.String(load_default=None, validate=validate.Length(max=64))
    kind = fields.String(load_default=None, validate=validate.OneOf(list(Kind)))
    period = fields.String(load_default=None, validate=validate.OneOf(PERIODS))


# --- Rows ---------------------------------------------------------------------------------------


#: The counts of a Figures, by field name: where each is read.
COUNT_FIELDS = {
    "received": (fields.Integer, "received"),
    "closed": (fields.Integer, "closed"),
    "backlog": (fields.Integer, "backlog"),
    "closed_undated": (fields.Integer, "closed_undated"),
    "duplicates": (fields.Integer, "duplicates"),
    "closed_with_deadline": (fields.Integer, "closed_with_deadline"),
    "closed_on_time": (fields.Integer, "closed_on_time"),
    "sla_compliance": (fields.Float, "sla_compliance"),
    "resolved": (fields.Integer, "resolved"),
    "confirmed": (fields.Integer, "confirmed"),
    "confirmed_fix_rate": (fields.Float, "confirmed_fix_rate"),
}
DURATION_FIELDS = {
    "acknowledged_count": (fields.Integer, "time_to_acknowledge.count"),
    "acknowledge_median_seconds": (fields.Float, "time_to_acknowledge.median"),
    "acknowledge_p90_seconds": (fields.Float, "time_to_acknowledge.p90"),
    "close_count": (fields.Integer, "time_to_close.count"),
    "close_median_seconds": (fields.Float, "time_to_close.median"),
    "close_p90_seconds": (fields.Float, "time_to_close.p90"),
}


def _figure_fields(prefix: str = "", durations: bool = True) -> dict:
    """The fields of a Figures (read at `prefix`, e.g. "figures."), flat: one CSV row each."""
    spec = COUNT_FIELDS | (DURATION_FIELDS if durations else {})
    return {name: field(attribute=prefix + path) for name, (field, path) in spec.items()}


def _per_1000(name: str):
    return fields.Function(lambda row: row.per_1000(getattr(row.figures, name)))


_NAME_FIELDS = {
    "id": fields.Integer(allow_none=True),
    "code": fields.String(),
    "name": fields.String(),
}
FiguresSchema = Schema.from_dict(_figure_fields(), name="FiguresSchema")
GroupRowSchema = Schema.from_dict(
    {**_NAME_FIELDS, **_figure_fields("figures.")}, name="GroupRowSchema"
)
#: Zones have counts and figures per 1,000 inhabitants, not durations (see
#: queries.DURATION_GROUPINGS).
ZoneRowSchema = Schema.from_dict(
    {
        **_NAME_FIELDS,
        **_figure_fields("figures.", durations=False),
        "population": fields.Integer(allow_none=True),
        "received_per_1000": _per_1000("received"),
        "closed_per_1000": _per_1000("closed"),
        "backlog_per_1000": _per_1000("backlog"),
    },
    name="ZoneRowSchema",
)


class SeriesPointSchema(Schema):
    start = fields.Date()
    received = fields.Integer()
    closed = fields.Integer()


class BacklogAgeSchema(Schema):
    from_days = fields.Integer()
    to_days = fields.Integer(allow_none=True)
    count = fields.Integer()


class TopCategorySchema(Schema):
    rank = fields.Integer()
    code = fields.String()
    name = fields.String()
    received = fields.Integer()
    share = fields.Float(allow_none=True)


class HotspotSchema(Schema):
    lat = fields.Float()
    lon = fields.Float()
    south = fields.Float()
    west = fields.Float()
    north = fields.Float()
    east = fields.Float()
    count = fields.Integer()
    open = fields.Integer()


class LocalDateTime(fields.DateTime):
    """A time in the city's time zone with its offset, as the CSV exports write times
    (tellcity.core.csv): the table's two formats say the same."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else iso_local(value, get_timezone())


class SuggestionSchema(Schema):
    reference = fields.String()
    category = fields.String()
    status = fields.String()
    support_count = fields.Integer()
    created_at = LocalDateTime()
    summary = fields.String()


class OutcomesSchema(Schema):
    resolved = fields.Integer()
    reopened = fields.Integer()
    reopen_rate = fields.Float(allow_none=True)
    confirmed = fields.Integer()
    confirmed_fix_rate = fields.Float(allow_none=True)
    duplicates = fields.Integer()
    duplicate_share = fields.Float(allow_none=True)
    transfers = fields.Integer()
    transferred_reports = fields.Integer()


class HeadlineRowSchema(Schema):
    metric = fields.String()
    current = fields.Float(allow_none=True)
    previous = fields.Float(allow_none=True)
    change = fields.Float(allow_none=True)
    change_kind = fields.String()


# --- Tables -------------------------------------------------------------------------------------

#: How each headline figure's change is measured: relative for counts and durations,
#: in points (a difference of fractions) for rates.
RATES = {"sla_compliance", "confirmed_fix_rate"}


def headline_rows(current: Headline, previous: Headline) -> list[dict]:
    """Each headline figure now and in the previous period, and the change between them."""
    rows = []
    for name in Headline.NAMES:
        now, before = getattr(current, name), getattr(previous, name)
        if now is None or before is None:
            change = None
        elif name in RATES:
            change = now - before
        else:
            change = (now - before) / before if before else None
        kind = "points" if name in RATES else "relative"
        rows.append(
            {
                "metric": name,
                "current": now,
                "previous": before,
                "change": change,
                "change_kind": kind,
            }
        )
    return rows


def backlog_rows(stats: Overview) -> list[dict]:
    return [
        {"from_days": low, "to_days": high, "count": count}
        for (low, high), count in zip(AGE_BUCKETS, stats.totals.backlog_ages, strict=True)
    ]


def top_category_rows(stats: Overview) -> list[dict]:
    total = stats.totals.received
    return [
        {
            "rank": rank,
            "code": row.code,
            "name": row.name,
            "received": row.figures.received,
            "share": row.figures.received / total if total else None,
        }
        for rank, row in enumerate(stats.top_categories, start=1)
    ]


def outcome_rows(stats: Overview) -> list[dict]:
    outcomes, totals = stats.outcomes, stats.totals
    return [
        {
            "resolved": outcomes.resolved,
            "reopened": outcomes.reopened,
            "reopen_rate": outcomes.reopen_rate,
            "confirmed": outcomes.confirmed,
            "confirmed_fix_rate": outcomes.confirmed_fix_rate,
            "duplicates": totals.duplicates,
            "duplicate_share": totals.duplicates / totals.received if totals.received else None,
            "transfers": stats.transfers.count,
            "transferred_reports": stats.transfers.reports,
        }
    ]


@dataclass(frozen=True)
class Table:
    """A table of the statistics: its rows from an Overview, and their schema."""

    rows: Callable[[Overview], list]
    schema: type[Schema]

    def dump(self, stats: Overview) -> list[dict]:
        return self.schema(many=True).dump(self.rows(stats))

    @property
    def columns(self) -> list[str]:
        return list(self.schema().dump_fields)


TABLES: dict[str, Table] = {
    "headline": Table(
        lambda stats: headline_rows(stats.headline, stats.previous), HeadlineRowSchema
    ),
    "series": Table(lambda stats: stats.series, SeriesPointSchema),
    "backlog": Table(backlog_rows, BacklogAgeSchema),
    "outcomes": Table(outcome_rows, OutcomesSchema),
    "departments": Table(lambda stats: stats.departments, GroupRowSchema),
    "categories": Table(lambda stats: stats.categories, GroupRowSchema),
    "zones": Table(lambda stats: stats.zones, ZoneRowSchema),
    "top_categories": Table(top_category_rows, TopCategorySchema),
    "hotspots": Table(lambda stats: stats.hotspots, HotspotSchema),
    "suggestions": Table(lambda stats: stats.suggestions, SuggestionSchema),
}


# --- The document of GET /api/v1/stats ------------------------------------------------------


def _city(stats: Overview) -> dict:
    city = stats.filters.city
    return {"slug": city.slug, "name": city.name, "timezone": city.timezone}


def _previous_range(stats: Overview) -> dict:
    dates = stats.filters.dates.previous()
    return {"from": dates.first.isoformat(), "to": dates.last.isoformat()}


def _headline(stats: Overview) -> dict:
    rows = headline_rows(stats.headline, stats.previous)
    return {row.pop("metric"): row for row in rows}


def _backlog(stats: Overview) -> dict:
    ages = BacklogAgeSchema(many=True).dump(backlog_rows(stats))
    return {"total": stats.totals.backlog, "ages": ages}


class StatsDocumentSchema(Schema):
    """Every figure of a selection, with what each means."""

    city = fields.Function(_city)
    from_ = fields.Date(data_key="from", attribute="filters.dates.first")
    to = fields.Date(attribute="filters.dates.last")
    period = fields.String(attribute="filters.period")
    as_of = fields.DateTime()
    computed_at = fields.DateTime()
    previous = fields.Function(_previous_range)
    filters = fields.Function(lambda stats: stats.filters.codes())
    definitions = fields.Function(
        lambda stats: {key: str(text) for key, text in DEFINITIONS.items()}
    )
    headline = fields.Function(_headline)
    totals = fields.Function(lambda stats: FiguresSchema().dump(stats.totals))
    series = fields.List(fields.Nested(SeriesPointSchema))
    backlog = fields.Function(_backlog)
    outcomes = fields.Function(lambda stats: OutcomesSchema().dump(outcome_rows(stats)[0]))
    departments = fields.List(fields.Nested(GroupRowSchema))
    categories = fields.List(fields.Nested(GroupRowSchema))
    zones = fields.List(fields.Nested(ZoneRowSchema))
    top_categories = fields.Function(
        lambda stats: TopCategorySchema(many=True).dump(top_category_rows(stats))
    )
    hotspots = fields.List(fields.Nested(HotspotSchema))
    suggestions = fields.List(fields.Nested(SuggestionSchema))
