"""Reply templates: administrators manage all of the city's, managers their department's."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from tellcity.accounts.models import Role
from tellcity.admin import access, queries
from tellcity.admin.forms import (
    PLACEHOLDER_HELP,
    ReplyTemplateForm,
    category_choices,
    department_choices,
)
from tellcity.admin.views.common import act, admin_city, city_row_or_404, form_page, save
from tellcity.cities.models import City
from tellcity.core.auth import current_actor, staff_required
from tellcity.staff import reply_templates
from tellcity.staff.models import ReplyTemplate
from tellcity.staff.services import TEMPLATE_PLACEHOLDERS

TEMPLATE = "admin/reply_template_form.html"
PLACEHOLDERS = [(name, PLACEHOLDER_HELP.get(name, "")) for name in TEMPLATE_PLACEHOLDERS]


@staff_required(Role.ADMIN, Role.MANAGER)
def reply_template_list():
    city = admin_city()
    rows = queries.reply_templates(city, department_id=_own_department(city))
    return render_template("admin/reply_templates.html", rows=rows)


@staff_required(Role.ADMIN, Role.MANAGER)
def reply_template_create():
    city = admin_city()
    form = _form(city)
    if form.validate_on_submit():
        values = form.values(reply_templates.TEMPLATE_FIELDS)
        ok, template = save(
            form, lambda: reply_templates.create_reply_template(city, values, actor=current_actor())
        )
        if ok:
            return _saved(template)
    return _form_page(form, None)


@staff_required(Role.ADMIN, Role.MANAGER)
def reply_template_update(template_id: int):
    city = admin_city()
    template = _editable(template_id, city)
    form = _form(city, template)
    if form.validate_on_submit():
        values = form.values(reply_templates.TEMPLATE_FIELDS)
        ok, _result = save(
            form,
            lambda: reply_templates.update_reply_template(template, values, actor=current_actor()),
        )
        if ok:
            return _saved(template)
    return _form_page(form, template)


@staff_required(Role.ADMIN, Role.MANAGER)
def reply_template_delete(template_id: int):
    template = _editable(template_id, admin_city())
    title = template.title
    return act(
        lambda: reply_templates.delete_reply_template(template, actor=current_actor()),
        _("%(title)s is deleted.", title=title),
        url_for(".reply_template_list"),
    )


def _own_department(city: City) -> int | None:
    """None for an administrator (every department); a manager's own department."""
    actor = current_actor()
    return None if access.is_admin(actor, city.id) else actor.user.department_id


def _editable(template_id: int, city: City) -> ReplyTemplate:
    """The template, if the signed-in administrator or manager may change it (else 403)."""
    template = city_row_or_404(ReplyTemplate, template_id, city)
    if not access.can_edit_template(current_actor(), city.id, template.department_id):
        abort(403)
    return template


def _form(city: City, template: ReplyTemplate | None = None) -> ReplyTemplateForm:
    form = ReplyTemplateForm(obj=template)
    own = _own_department(city)
    departments = [d for d in queries.department_choices(city) if own in (None, d.id)]
    form.department_id.choices = department_choices(
        departments, empty=_("Every department") if own is None else None
    )
    categories = queries.categories(city)
    form.category_id.choices = category_choices(categories, str(get_locale()), empty=_("Any"))
    return form


def _form_page(form: ReplyTemplateForm, template: ReplyTemplate | None):
    return form_page(TEMPLATE, form, template=template, placeholders=PLACEHOLDERS)


def _saved(template: ReplyTemplate):
    flash(_("%(title)s is saved.", title=template.title), "success")
    return redirect(url_for(".reply_template_list"))
