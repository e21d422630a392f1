"""Imports every model, so that the metadata (and so Alembic) knows every table."""

from tellcity.accounts.models import ApiKey, User
from tellcity.audit.models import AuditEntry
from tellcity.categories.models import Category
from tellcity.cities.models import City, Zone
from tellcity.departments.models import Department
from tellcity.notify.models import OutboxMessage
from tellcity.open311.client.models import Open311Mapping, RemoteRequest
from tellcity.reports.models import (
    Photo,
    Report,
    ReportEvent,
    ReportSequence,
    Subscription,
    Support,
)
from tellcity.routing.models import RoutingRule
from tellcity.staff.models import ReplyTemplate
from tellcity.stats.models import StatsSnapshot

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Category",
    "City",
    "Department",
    "Open311Mapping",
    "OutboxMessage",
    "Photo",
    "RemoteRequest",
    "ReplyTemplate",
    "Report",
    "ReportEvent",
    "ReportSequence",
    "RoutingRule",
    "StatsSnapshot",
    "Subscription",
    "Support",
    "User",
    "Zone",
]
