"""Zones: list with populations, upload from GeoJSON (adding or replacing all), edit, delete."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from tellcity.accounts.models import Role
from tellcity.admin import queries
from tellcity.admin.forms import ZoneForm, ZoneUploadForm
from tellcity.admin.validation import read_zone_file
from tellcity.admin.views.common import act, admin_city, city_row_or_404, form_page, save
from tellcity.cities.models import Zone
from tellcity.core.auth import current_actor, staff_required
from tellcity.geo import services


@staff_required(Role.ADMIN)
def zone_list():
    city = admin_city()
    rows = queries.zones(city)
    total = sum(zone.population or 0 for zone in rows)
    return render_template(
        "admin/zones.html", zones=rows, total=total, zone_map=queries.zone_map(city)
    )


@staff_required(Role.ADMIN)
def zone_upload():
    city = admin_city()
    form = ZoneUploadForm()
    if form.validate_on_submit():
        raw = form.file.data.read()
        replace = form.replace.data
        ok, created = save(
            form,
            lambda: services.add_zones(
                city, read_zone_file(raw), replace=replace, actor=current_actor()
            ),
        )
        if ok:
            flash(_("%(count)s zone(s) loaded.", count=len(created)), "success")
            return redirect(url_for(".zone_list"))
    return form_page("admin/zone_upload.html", form)


@staff_required(Role.ADMIN)
def zone_update(zone_id: int):
    zone = city_row_or_404(Zone, zone_id, admin_city())
    form = ZoneForm(obj=zone)
    if form.validate_on_submit():
        values = form.values(("name", "population"))
        ok, _result = save(form, lambda: services.update_zone(zone, values, actor=current_actor()))
        if ok:
            flash(_("%(name)s is saved.", name=zone.name), "success")
            return redirect(url_for(".zone_list"))
    return form_page("admin/zone_form.html", form, zone=zone)


@staff_required(Role.ADMIN)
def zone_delete(zone_id: int):
    zone = city_row_or_404(Zone, zone_id, admin_city())
    name = zone.name
    return act(
        lambda: services.delete_zone(zone, actor=current_actor()),
        _("%(name)s is deleted.", name=name),
        url_for(".zone_list"),
    )
