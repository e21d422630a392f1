"""Which open tickets are at risk (80 % of their SLA used) or overdue."""

from datetime import datetime

import sqlalchemy as sa

from tellcity.reports.models import Report


def overdue(now: datetime):
    """A filter: open tickets past their due date."""
    return sa.and_(Report.is_open, Report.due_at <= now)


def at_risk(now: datetime):
    """A filter: open tickets that have used 80 % of their time but are not yet overdue."""
    return sa.and_(Report.is_open, Report.at_risk_at <= now, Report.due_at > now)


def sla_state(report: Report, now: datetime) -> str | None:
    """ "overdue", "at_risk", "on_time", or None for a closed ticket or one without an SLA."""
    if not report.is_open or report.due_at is None:
        return None
    if report.due_at <= now:
        return "overdue"
    if report.at_risk_at is not None and report.at_risk_at <= now:
        return "at_risk"
    return "on_time"
