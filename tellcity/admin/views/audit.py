"""The audit log: the latest configuration changes, by whom, with what changed."""

from flask import render_template, request

from tellcity.accounts.models import Role
from tellcity.admin import queries
from tellcity.admin.views.common import admin_city
from tellcity.core.auth import staff_required
from tellcity.core.params import MAX_BIG_ID, id_param


@staff_required(Role.ADMIN)
def audit_log():
    city = admin_city()
    entity = request.args.get("entity", "")
    entity = entity if entity in queries.AUDITED_ENTITIES else ""
    entity_id = id_param(request.args.get("id"), maximum=MAX_BIG_ID)
    entries = queries.audit_entries(city, entity=entity or None, entity_id=entity_id)
    return render_template(
        "admin/audit.html",
        rows=[(entry, queries.changes(entry)) for entry in entries],
        entity=entity,
        entity_id=entity_id,
        entities=queries.AUDITED_ENTITIES,
    )
