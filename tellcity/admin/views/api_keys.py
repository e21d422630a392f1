"""API keys: list, create (the key is shown once), revoke."""

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from tellcity.accounts import api_keys
from tellcity.accounts.models import ApiKey, Role
from tellcity.admin import access, queries
from tellcity.admin.forms import ApiKeyBudgetForm, ApiKeyForm
from tellcity.admin.views.common import act, admin_city, form_page, save, secret_page
from tellcity.core.auth import current_actor, staff_required
from tellcity.extensions import db


@staff_required(Role.ADMIN)
def api_key_list():
    city = admin_city()
    actor = current_actor()
    rows = [(key, access.is_admin(actor, key.city_id)) for key in queries.api_keys(city)]
    return render_template(
        "admin/api_keys.html", rows=rows, default_budget=current_app.config["RATELIMIT_API_KEY"]
    )


@staff_required(Role.ADMIN)
def api_key_create():
    city = admin_city()
    form = ApiKeyForm()
    if form.validate_on_submit():
        name, scopes, budget = form.name.data, form.scopes.data, form.rate_limit.data
        ok, result = save(
            form,
            lambda: api_keys.create_api_key(
                name, city=city, scopes=scopes, rate_limit=budget, actor=current_actor()
            ),
        )
        if ok:
            key, secret = result
            return secret_page(
                _("API key %(name)s", name=key.name),
                [(_("Key"), secret)],
                url_for(".api_key_list"),
                note=_(
                    "Give it to its user now: only its hash is kept, it will not be shown again."
                ),
            )
    return form_page("admin/api_key_form.html", form)


@staff_required(Role.ADMIN)
def api_key_budget(key_id: int):
    """The key's own budget of reports (empty: the site's RATELIMIT_API_KEY)."""
    key = db.get_or_404(ApiKey, key_id)
    access.require_admin(current_actor(), key.city_id)
    form = ApiKeyBudgetForm(obj=key)
    if form.validate_on_submit():
        budget = form.rate_limit.data
        ok, _result = save(
            form, lambda: api_keys.set_rate_limit(key, budget, actor=current_actor())
        )
        if ok:
            flash(_("The budget of %(name)s is saved.", name=key.name), "success")
            return redirect(url_for(".api_key_list"))
    return form_page(
        "admin/api_key_budget.html",
        form,
        key=key,
        default=current_app.config["RATELIMIT_API_KEY"],
    )


@staff_required(Role.ADMIN)
def api_key_revoke(key_id: int):
    key = db.get_or_404(ApiKey, key_id)
    return act(
        lambda: api_keys.revoke_api_key(key, actor=current_actor()),
        _("The key %(name)s is revoked.", name=key.name),
        url_for(".api_key_list"),
    )
