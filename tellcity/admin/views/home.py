"""The administration's front page."""

from flask import render_template

from tellcity.accounts.models import Role
from tellcity.core.auth import staff_required


@staff_required(Role.ADMIN, Role.MANAGER)
def index():
    """Links to each section the signed-in administrator or manager may use."""
    return render_template("admin/index.html")
