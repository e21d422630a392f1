"""A department's Open311 system (tellcity.open311.client): its services, fetched from it, and
which of them each of our categories goes to, with its attributes answered by our questions."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from tellcity.accounts.models import Role
from tellcity.admin import queries
from tellcity.admin.views.common import act, admin_city, city_row_or_404
from tellcity.categories.questions import asked
from tellcity.core.actions import attempt
from tellcity.core.auth import current_actor, staff_required
from tellcity.core.errors import Conflict, Invalid
from tellcity.departments.models import Department
from tellcity.open311.client import services
from tellcity.open311.client.models import REPORT_FIELDS

TEMPLATE = "admin/department_open311.html"


@staff_required(Role.ADMIN)
def open311_mapping(department_id: int):
    """The page; POST saves the mapping of every category shown."""
    city = admin_city()
    department = city_row_or_404(Department, department_id, city)
    categories = _categories(city, department)
    errors = []
    if request.method == "POST":

        def save_all():
            for category in categories:
                if f"service-{category.id}" not in request.form:
                    continue  # not on the page sent (a category made since): left as it is
                code = request.form[f"service-{category.id}"]
                prefix = f"attr-{category.id}-"
                attributes = {
                    name.removeprefix(prefix): value
                    for name, value in request.form.items()
                    if name.startswith(prefix)
                }
                services.save_mapping(department, category, code, attributes, actor=current_actor())

        outcome = attempt(save_all, refusals=(Invalid, Conflict))
        if outcome.is_done:
            flash(_("The Open311 mapping of %(name)s is saved.", name=department.name), "success")
            return redirect(url_for(".open311_mapping", department_id=department.id))
        errors.append(outcome.error.message)
    page = render_template(
        TEMPLATE,
        department=department,
        categories=categories,
        questions={category.id: asked(category) for category in categories},
        report_fields=REPORT_FIELDS,
        mappings=services.mappings(department),
        services_by_code={
            str(service.get("service_code")): service
            for service in department.open311_services or []
        },
        errors=errors,
    )
    return page, 422 if errors else 200


@staff_required(Role.ADMIN)
def open311_fetch(department_id: int):
    department = city_row_or_404(Department, department_id, admin_city())
    return act(
        lambda: services.fetch_services(department, actor=current_actor()),
        _("The services of %(name)s's Open311 system are fetched.", name=department.name),
        url_for(".open311_mapping", department_id=department.id),
    )


def _categories(city, department: Department):
    """The city's categories, those routed to the department by default first."""
    categories = queries.categories(city)
    return sorted(categories, key=lambda category: category.department_id != department.id)
