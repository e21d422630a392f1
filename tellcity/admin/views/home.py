"""The administration's front page."""

from flask import render_template
from flask_login import current_user

from tellcity.accounts.models import Role
from tellcity.admin.views.common import admin_city
from tellcity.core.auth import staff_required
from tellcity.departments.escalation import unreachable_departments


@staff_required(Role.ADMIN, Role.MANAGER)
def index():
    """Links to each section the signed-in administrator or manager may use; and for an
    administrator, the departments whose overdue tickets would reach nobody."""
    unreachable = []
    if current_user.role == Role.ADMIN:
        unreachable = unreachable_departments(admin_city().id)
    return render_template("admin/index.html", unreachable=unreachable)
