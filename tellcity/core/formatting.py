"""Numbers, rates and durations written for people, in the reader's language ("3 d 4 h",
"12.5 %", "1,234"); "—" when there is no figure. The statistics' templates use them."""

from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _


def format_duration(seconds: float | None) -> str:
    """A duration the way people say it: 3 d 4 h, 5 h 20 min, 12 min."""
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return _("%(days)s d %(hours)s h", days=days, hours=hours)
    if hours:
        return _("%(hours)s h %(minutes)s min", hours=hours, minutes=minutes)
    return _("%(minutes)s min", minutes=minutes)


def format_rate(value: float | None) -> str:
    return "—" if value is None else format_percent(value, "#,##0.#%")


def format_number(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return format_decimal(value, "#,##0" + ("." + "#" * digits if digits else ""))


def format_value(value: float | None, how: str) -> str:
    """`value` written as a "duration", a "rate" or (anything else) a count."""
    if how == "duration":
        return format_duration(value)
    return format_rate(value) if how == "rate" else format_number(value)


def format_change(change: float | None, how: str) -> str:
    """+12 % for a relative change, +5 pts for a rate's change in points."""
    if change is None:
        return ""
    if how == "rate":
        return _("%(points)s pts", points=format_decimal(change * 100, "+#,##0.#;-#,##0.#"))
    return format_percent(change, "+#,##0%;-#,##0%")


def formatting() -> dict:
    """How templates write durations, rates and counts (for a context processor)."""
    return {
        "format_duration": format_duration,
        "format_rate": format_rate,
        "format_number": format_number,
    }
