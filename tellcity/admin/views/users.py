"""Users and roles: list, create (the password is shown once), change role and department,
deactivate and reactivate, reset a lost second factor; whether the city's staff must all sign
in with a second factor."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from tellcity.accounts import services, two_factor
from tellcity.accounts.models import Role, User
from tellcity.admin import queries
from tellcity.admin.forms import (
    ROLE_LABELS,
    USER_FIELD_ORDER,
    UserEditForm,
    UserForm,
    department_choices,
)
from tellcity.admin.views.common import (
    act,
    admin_city,
    city_row_or_404,
    form_page,
    save,
    secret_page,
)
from tellcity.cities.models import City
from tellcity.core.auth import current_actor, staff_required

TEMPLATE = "admin/user_form.html"
FIELDS = ("email", "name", "role", "department_id")


@staff_required(Role.ADMIN)
def user_list():
    city = admin_city()
    role = request.args.get("role", "")
    role = role if role in set(Role) else ""
    search = request.args.get("q", "").strip()[:100]
    rows = queries.users(city, role=role or None, search=search)
    return render_template(
        "admin/users.html",
        rows=rows,
        role=role,
        search=search,
        roles=ROLE_LABELS.items(),
        city=city,
    )


@staff_required(Role.ADMIN)
def user_create():
    city = admin_city()
    form = _with_departments(UserForm(), city)
    if form.validate_on_submit():
        values = form.values(FIELDS)
        ok, result = save(
            form, lambda: services.create_account(city, values, actor=current_actor())
        )
        if ok:
            user, password = result
            return secret_page(
                _("Account of %(email)s", email=user.email),
                [(_("Email"), user.email), (_("Password"), password)],
                url_for(".user_list"),
                note=_(
                    "Give the password to its owner now: it is not kept and will not be "
                    "shown again."
                ),
            )
    return form_page(TEMPLATE, form, user=None, fields=USER_FIELD_ORDER)


@staff_required(Role.ADMIN)
def user_update(user_id: int):
    city = admin_city()
    user = city_row_or_404(User, user_id, city)
    form = _with_departments(UserEditForm(obj=user), city)
    if form.validate_on_submit():
        values = form.values(FIELDS)
        ok, _result = save(
            form, lambda: services.update_account(user, values, actor=current_actor())
        )
        if ok:
            flash(_("%(email)s is saved.", email=user.email), "success")
            return redirect(url_for(".user_list"))
    return form_page(TEMPLATE, form, user=user, fields=USER_FIELD_ORDER[1:])


@staff_required(Role.ADMIN)
def user_set_active(user_id: int):
    """Deactivate (active=0) or reactivate (active=1) an account."""
    user = city_row_or_404(User, user_id, admin_city())
    is_active = request.form.get("active") == "1"
    done = (
        _("%(email)s can sign in again.", email=user.email)
        if is_active
        else _("%(email)s can no longer sign in.", email=user.email)
    )
    return act(
        lambda: services.set_account_active(user, is_active, actor=current_actor()),
        done,
        url_for(".user_list"),
    )


@staff_required(Role.ADMIN)
def user_reset_two_factor(user_id: int):
    """Turn off a user's second factor (a lost phone): they set it up again at their next
    sign-in if it is required of them."""
    user = city_row_or_404(User, user_id, admin_city())
    return act(
        lambda: two_factor.reset(user, actor=current_actor()),
        _("Two-factor sign-in of %(email)s is reset.", email=user.email),
        url_for(".user_update", user_id=user.id),
    )


@staff_required(Role.ADMIN)
def staff_two_factor():
    """Require a second factor of all the city's staff (required=1), or of administrators only."""
    city = admin_city()
    is_required = request.form.get("required") == "1"
    done = (
        _("Every member of staff now signs in with a second factor.")
        if is_required
        else _("Only administrators must now sign in with a second factor.")
    )
    return act(
        lambda: two_factor.require_of_staff(city, is_required, actor=current_actor()),
        done,
        url_for(".user_list"),
    )


def _with_departments(form, city: City):
    departments = queries.department_choices(city)
    form.department_id.choices = department_choices(departments, empty=_("None"))
    return form
