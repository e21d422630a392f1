"""Routing rules: list in the order they are tried, create, move, delete; and the tester,
which says where a report of a category at a point would go, saving nothing."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from tellcity.accounts.models import Role
from tellcity.admin import queries
from tellcity.admin.forms import (
    RouteTestForm,
    RuleForm,
    category_choices,
    choices,
    department_choices,
)
from tellcity.admin.views.common import act, admin_city, city_row_or_404, save
from tellcity.categories.models import Category
from tellcity.cities.models import City
from tellcity.core.auth import current_actor, staff_required
from tellcity.core.errors import Conflict, Invalid
from tellcity.routing import rules
from tellcity.routing.models import RoutingRule


@staff_required(Role.ADMIN)
def rule_list():
    city = admin_city()
    return _page(city, _rule_form(city), _test_form(city))


@staff_required(Role.ADMIN)
def rule_create():
    city = admin_city()
    form = _rule_form(city)
    if form.validate_on_submit():
        values = form.values(("category_id", "zone_id", "department_id"))
        ok, _result = save(form, lambda: rules.create_rule(city, **values, actor=current_actor()))
        if ok:
            flash(_("The rule is added."), "success")
            return redirect(url_for(".rule_list"))
    return _page(city, form, _test_form(city), status=422)


@staff_required(Role.ADMIN)
def rule_move(rule_id: int):
    rule = city_row_or_404(RoutingRule, rule_id, admin_city())
    direction = request.form.get("direction", "")
    return act(
        lambda: rules.move_rule(rule, direction, actor=current_actor()),
        _("The rule is moved."),
        url_for(".rule_list"),
    )


@staff_required(Role.ADMIN)
def rule_delete(rule_id: int):
    rule = city_row_or_404(RoutingRule, rule_id, admin_city())
    return act(
        lambda: rules.delete_rule(rule, actor=current_actor()),
        _("The rule is deleted."),
        url_for(".rule_list"),
    )


@staff_required(Role.ADMIN)
def rule_test():
    """Where a report of this category at this point would go, and why; nothing is saved."""
    city = admin_city()
    form = _test_form(city, request.args)
    if not form.validate():
        return _page(city, _rule_form(city), form, status=422)
    category = city_row_or_404(Category, form.category_id.data, city)
    try:
        decision = queries.where_would_it_go(city, category, form.lat.data, form.lon.data)
    except (Invalid, Conflict) as error:
        form.form_errors.append(error.message)
        return _page(city, _rule_form(city), form, status=error.status)
    return _page(city, _rule_form(city), form, decision=decision)


def _page(city: City, rule_form: RuleForm, test_form: RouteTestForm, status: int = 200, **more):
    page = render_template(
        "admin/rules.html",
        city=city,
        rows=queries.rules(city),
        form=rule_form,
        test_form=test_form,
        zone_map=queries.zone_map(city),
        **more,
    )
    return page, status


def _rule_form(city: City) -> RuleForm:
    form = RuleForm()
    locale = str(get_locale())
    form.category_id.choices = category_choices(queries.categories(city), locale)
    zones = ((zone.id, zone.name) for zone in queries.zones(city))
    form.zone_id.choices = choices(zones, empty=_("Any zone"))
    form.department_id.choices = department_choices(queries.department_choices(city))
    return form


def _test_form(city: City, args=None) -> RouteTestForm:
    form = RouteTestForm(formdata=args or None, lat=city.center_lat, lon=city.center_lon)
    locale = str(get_locale())
    form.category_id.choices = category_choices(queries.categories(city), locale)
    return form
