"""Categories: list by group, create, edit (all of it for administrators; the service
settings for their department's managers), delete."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from tellcity.accounts.models import Role
from tellcity.admin import access, queries
from tellcity.admin.forms import (
    SETTINGS_FIELD_ORDER,
    CategoryForm,
    CategorySettingsForm,
    department_choices,
)
from tellcity.admin.views.common import act, admin_city, city_row_or_404, form_page, save
from tellcity.categories import services
from tellcity.categories.models import Category
from tellcity.cities.models import City
from tellcity.core.auth import current_actor, staff_required

TEMPLATE = "admin/category_form.html"


@staff_required(Role.ADMIN, Role.MANAGER)
def category_list():
    """All the city's categories for administrators; a manager's department's for managers."""
    city = admin_city()
    mine = None if current_user.role == Role.ADMIN else current_user.department_id
    groups = queries.categories_by_group(city, str(get_locale()), department_id=mine)
    return render_template("admin/categories.html", groups=groups)


@staff_required(Role.ADMIN)
def category_create():
    city = admin_city()
    form = _full_form(city)
    if form.validate_on_submit():
        values = form.values(services.CATEGORY_FIELDS)
        ok, category = save(
            form, lambda: services.create_category(city, values, actor=current_actor())
        )
        if ok:
            return _saved(category)
    return form_page(TEMPLATE, form, category=None, fields=services.CATEGORY_FIELDS)


@staff_required(Role.ADMIN, Role.MANAGER)
def category_update(category_id: int):
    city = admin_city()
    category = city_row_or_404(Category, category_id, city)
    actor = current_actor()
    if not access.can_edit_category(actor, city.id, category.department_id):
        abort(403)
    is_admin = access.is_admin(actor, city.id)
    form = _full_form(city, category) if is_admin else CategorySettingsForm(obj=category)
    fields = services.CATEGORY_FIELDS if is_admin else SETTINGS_FIELD_ORDER
    if form.validate_on_submit():
        values = form.values(services.CATEGORY_FIELDS)
        ok, _result = save(form, lambda: services.update_category(category, values, actor=actor))
        if ok:
            return _saved(category)
    return form_page(TEMPLATE, form, category=category, fields=fields)


def _full_form(city: City, category: Category | None = None) -> CategoryForm:
    form = CategoryForm(obj=category)
    departments = queries.department_choices(city)
    form.department_id.choices = department_choices(departments, empty=_("None: triage desk"))
    return form


def _saved(category: Category):
    flash(_("%(code)s is saved.", code=category.code), "success")
    return redirect(url_for(".category_list"))


@staff_required(Role.ADMIN)
def category_delete(category_id: int):
    category = city_row_or_404(Category, category_id, admin_city())
    code = category.code
    return act(
        lambda: services.delete_category(category, actor=current_actor()),
        _("%(code)s is deleted.", code=code),
        url_for(".category_list"),
    )
