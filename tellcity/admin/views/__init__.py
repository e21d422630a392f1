"""The administration pages, under /staff/admin: one module per section, and here the table of
their addresses. Every view is guarded by role (tellcity.core.auth.staff_required) and every
service checks again (tellcity.admin.access)."""

from flask import Blueprint

from tellcity.admin.views import (
    api_keys,
    audit,
    categories,
    departments,
    home,
    open311,
    outbox,
    reply_templates,
    rules,
    users,
    zones,
)

bp = Blueprint("admin", __name__, url_prefix="/staff/admin")

GET, POST, FORM = ("GET",), ("POST",), ("GET", "POST")

#: (address, view, methods); each view's name is its endpoint, e.g. admin.department_update.
ROUTES = (
    ("/", home.index, GET),
    ("/departments", departments.department_list, GET),
    ("/departments/new", departments.department_create, FORM),
    ("/departments/<int:department_id>", departments.department_update, FORM),
    ("/departments/<int:department_id>/delete", departments.department_delete, POST),
    ("/departments/<int:department_id>/open311", open311.open311_mapping, FORM),
    ("/departments/<int:department_id>/open311/fetch", open311.open311_fetch, POST),
    ("/categories", categories.category_list, GET),
    ("/categories/new", categories.category_create, FORM),
    ("/categories/<int:category_id>", categories.category_update, FORM),
    ("/categories/<int:category_id>/delete", categories.category_delete, POST),
    ("/zones", zones.zone_list, GET),
    ("/zones/upload", zones.zone_upload, FORM),
    ("/zones/<int:zone_id>", zones.zone_update, FORM),
    ("/zones/<int:zone_id>/delete", zones.zone_delete, POST),
    ("/rules", rules.rule_list, GET),
    ("/rules/new", rules.rule_create, POST),
    ("/rules/test", rules.rule_test, GET),
    ("/rules/<int:rule_id>/move", rules.rule_move, POST),
    ("/rules/<int:rule_id>/delete", rules.rule_delete, POST),
    ("/users", users.user_list, GET),
    ("/users/new", users.user_create, FORM),
    ("/users/<int:user_id>", users.user_update, FORM),
    ("/users/<int:user_id>/active", users.user_set_active, POST),
    ("/users/<int:user_id>/two-factor/reset", users.user_reset_two_factor, POST),
    ("/users/two-factor", users.staff_two_factor, POST),
    ("/reply-templates", reply_templates.reply_template_list, GET),
    ("/reply-templates/new", reply_templates.reply_template_create, FORM),
    ("/reply-templates/<int:template_id>", reply_templates.reply_template_update, FORM),
    ("/reply-templates/<int:template_id>/delete", reply_templates.reply_template_delete, POST),
    ("/api-keys", api_keys.api_key_list, GET),
    ("/api-keys/new", api_keys.api_key_create, FORM),
    ("/api-keys/<int:key_id>/budget", api_keys.api_key_budget, FORM),
    ("/api-keys/<int:key_id>/revoke", api_keys.api_key_revoke, POST),
    ("/audit", audit.audit_log, GET),
    ("/outbox", outbox.outbox_list, GET),
    ("/outbox/<bigid:message_id>/retry", outbox.outbox_retry, POST),
    ("/outbox/<bigid:message_id>/drop", outbox.outbox_drop, POST),
)

for rule, view, methods in ROUTES:
    bp.add_url_rule(rule, view_func=view, methods=methods)

bp.add_app_template_global(outbox.outbox_warning)
