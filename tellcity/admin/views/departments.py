"""Departments: list (with who hears of their overdue tickets), create, edit (delivery and its
webhook secret, shown once), delete."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from tellcity.accounts.models import Role
from tellcity.admin import queries
from tellcity.admin.forms import DepartmentForm
from tellcity.admin.views.common import (
    act,
    admin_city,
    city_row_or_404,
    form_page,
    save,
    secret_page,
)
from tellcity.core.auth import current_actor, staff_required
from tellcity.departments import services
from tellcity.departments.escalation import escalation_contacts, unreachable_departments
from tellcity.departments.models import Department
from tellcity.reports.history import ESCALATED_VIA

TEMPLATE = "admin/department_form.html"


@staff_required(Role.ADMIN)
def department_list():
    rows = queries.departments(admin_city())
    escalations = {row.department.id: escalation_contacts(row.department) for row in rows}
    unreachable = [row.department for row in rows if not escalations[row.department.id].via]
    return render_template(
        "admin/departments.html",
        rows=rows,
        escalations=escalations,
        escalated_via=ESCALATED_VIA,
        unreachable=unreachable,
    )


@staff_required(Role.ADMIN)
def department_create():
    city = admin_city()
    form = DepartmentForm()
    if form.validate_on_submit():
        values = form.values((*services.DEPARTMENT_FIELDS, "open311_api_key"))
        ok, result = save(
            form, lambda: services.create_department(city, values, actor=current_actor())
        )
        if ok:
            department, secret = result
            return _saved(department, secret)
    return form_page(TEMPLATE, form, department=None)


@staff_required(Role.ADMIN)
def department_update(department_id: int):
    department = city_row_or_404(Department, department_id, admin_city())
    form = DepartmentForm(obj=department)
    if form.validate_on_submit():
        values = form.values((*services.DEPARTMENT_FIELDS, "open311_api_key"))
        ok, secret = save(
            form,
            lambda: services.update_department(
                department, values, actor=current_actor(), new_secret=form.new_secret.data
            ),
        )
        if ok:
            return _saved(department, secret)
    unreachable = [department] if department in unreachable_departments(department.city_id) else []
    return form_page(TEMPLATE, form, department=department, unreachable=unreachable)


def _saved(department: Department, secret: str | None):
    """Back to the list; or first, when a webhook secret was just made, the page showing it."""
    back = url_for(".department_list")
    if secret:
        return secret_page(
            _("Webhook secret of %(name)s", name=department.name),
            [(_("Secret"), secret)],
            back,
            note=_(
                "Each call is signed with it: X-TellCity-Signature: sha256=HMAC(secret, "
                'timestamp + "." + body). Give it to the receiving system now.'
            ),
        )
    flash(_("%(name)s is saved.", name=department.name), "success")
    return redirect(back)


@staff_required(Role.ADMIN)
def department_delete(department_id: int):
    department = city_row_or_404(Department, department_id, admin_city())
    name = department.name
    return act(
        lambda: services.delete_department(department, actor=current_actor()),
        _("%(name)s is deleted.", name=name),
        url_for(".department_list"),
    )
