"""Accounts: residents sign up (optional: reporting never needs an account), everyone signs in
and out, residents see their own reports."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from tellcity.accounts.forms import SignInForm, SignUpForm
from tellcity.accounts.services import AccountError, AccountLocked, authenticate, create_user
from tellcity.cities.queries import default_city
from tellcity.core.i18n import chosen_by_switch
from tellcity.core.urls import safe_next
from tellcity.extensions import db, limiter
from tellcity.reports.queries import reports_of

bp = Blueprint("accounts", __name__, url_prefix="/account")


def _signin_limit() -> str:
    return current_app.config["RATELIMIT_SIGNIN"]


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_signin_limit, methods=["POST"])
def signup():
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            user, _password = create_user(
                form.email.data,
                name=form.name.data or "",
                password=form.password.data,
                city=default_city(),
                locale=chosen_by_switch(),
            )
        except AccountError:  # the 422 answer rolls back
            form.email.errors.append(_("An account already exists for this address."))
        else:
            login_user(user)
            flash(_("Welcome! Your reports will be listed under My reports."), "success")
            return redirect(url_for("accounts.my_reports"))
    status = 422 if form.errors else 200
    return render_template("accounts/signup.html", form=form), status


@bp.route("/signin", methods=["GET", "POST"])
@limiter.limit(_signin_limit, methods=["POST"])
def signin():
    form = SignInForm()
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data, form.password.data)
        except AccountLocked:
            user = None
            form.password.errors.append(
                _("Too many failed attempts: this account is locked for 15 minutes.")
            )
        else:
            if user is None:
                form.password.errors.append(_("Wrong email or password."))
        # A failed attempt counts towards the lock even though the answer is an error (422),
        # which the request would roll back: the one write kept on an error answer.
        db.session.commit()
        if user is not None:
            login_user(user, remember=form.remember.data)
            home = url_for("staff.queue") if user.is_staff else url_for("accounts.my_reports")
            return redirect(safe_next(request.args.get("next"), home))
    status = 422 if form.errors else 200
    return render_template("accounts/signin.html", form=form), status


@bp.post("/signout")
def signout():
    logout_user()
    flash(_("You are signed out."), "success")
    return redirect(url_for("reports.home"))


@bp.get("/reports")
@login_required
def my_reports():
    return render_template("accounts/my_reports.html", reports=reports_of(current_user.id))
