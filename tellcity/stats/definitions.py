"""What each figure of the statistics means: shown on the pages (Definitions) and returned by
`GET /api/v1/stats` as its `definitions` object."""

from flask_babel import lazy_gettext as _l

DEFINITIONS = {
    "range": _l(
        "from and to are local dates of the city, both included; the previous period is the "
        "range of the same length just before. Filters (department, category, zone, kind) "
        "apply to each report as it is now."
    ),
    "computed_at": _l(
        "When these figures were computed. They are kept a few minutes (5 unless configured "
        "otherwise) and then computed again, so a report filed since may not be counted yet."
    ),
    "received": _l("Reports created in the range (problems and suggestions, unless filtered)."),
    "closed": _l(
        "Reports whose closing time (resolved, duplicate, referred, not actionable, rejected, "
        "declined or done) falls in the range; a reopened report is open again until closed."
    ),
    "series": _l(
        "Received and closed per local day, week (from Monday) or month of the city; the "
        "first and last week or month may cover only part of the range."
    ),
    "backlog": _l(
        "Reports open at the end of the range (now, when the range ends today): created "
        "before it and either open now or closed after it."
    ),
    "closed_undated": _l(
        "Reports created in the range that are closed, at a time nobody knows: imported with a "
        "closed status and no usable closing time. They are neither closed in any range nor in "
        "the backlog: received = closed + closed, date unknown + backlog, over a range that "
        "covers every report."
    ),
    "backlog_ages": _l(
        "Age of the backlog at the end of the range, in days: under 2, 2 to 7, 7 to 30, "
        "30 to 90, 90 and more (each bucket includes its lower bound)."
    ),
    "time_to_acknowledge": _l(
        "Seconds from creation to the first answer of the department (the first move out of "
        "new: acknowledged, in progress, resolved or closed), over reports created in the "
        "range that have had one."
    ),
    "time_to_close": _l("Seconds from creation to closing, over reports closed in the range."),
    "durations_by": _l(
        "Durations are given for the whole selection, each department and each category; "
        "zones have counts only."
    ),
    "median": _l(
        "The middle value, or the mean of the two middle values when their number is even "
        "(Python's statistics.median)."
    ),
    "p90": _l(
        "90th percentile, interpolated linearly between the two nearest ranks at rank "
        "1 + 0.9 * (n - 1): Python's statistics.quantiles(n=10, method='inclusive')[8], "
        "PostgreSQL's percentile_cont(0.9)."
    ),
    "sla_compliance": _l(
        "Share of the reports closed in the range that had a deadline (their category's "
        "target, in business hours) and were closed by it."
    ),
    "resolved": _l(
        "Reports resolved (or done, for suggestions) in the range and still so: the fixes that "
        "held."
    ),
    "reopened": _l("Reports their reporter reopened in the range, each counted once."),
    "reopen_rate": _l("Reopened ÷ (resolved + reopened): the share of fixes residents reopened."),
    "confirmed_fix_rate": _l("Share of the resolved reports whose reporter confirmed the fix."),
    "duplicates": _l("Reports created in the range and now closed as duplicates of another."),
    "transfers": _l(
        "Transfers from one department to another made in the range, and the number of "
        "reports transferred."
    ),
    "per_1000": _l(
        "Figures per 1,000 inhabitants of the zone (its recorded population); none when the "
        "zone's population is unknown."
    ),
    "top_categories": _l("The categories that received the most reports in the range."),
    "hotspots": _l(
        "Cells of 0.001° of latitude by 0.001° of longitude (about 110 m by 75 m) with at "
        "least 3 public reports created in the range, most reports first, at most 20."
    ),
    "suggestions": _l("Public suggestions created in the range with the most support, at most 10."),
    "rates": _l(
        "Rates and shares are fractions between 0 and 1; none when there is nothing to count."
    ),
    "change": _l(
        "Headline changes on the previous period: relative (0.25 is 25 % more) for counts and "
        "durations, a difference in points for rates."
    ),
}

#: What the public statistics page counts (each figure meaning what DEFINITIONS says).
PUBLIC_SCOPE = _l(
    "Public reports only, as the list of reports and the open data show them: hidden and "
    "rejected reports are not counted. No figure is about one report or one person."
)
