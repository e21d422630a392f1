"""Accounts: residents sign up (optional: reporting never needs an account), everyone signs in
and out, residents see their own reports; staff set up two-factor sign-in, and a member of
staff with a second factor gives its code after the password (tellcity.accounts.two_factor).

Between the two steps the session holds only who is signing in, until when, and where to go:
it is signed in once the code is right, "keep me signed in" included."""

import time

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_login.config import COOKIE_NAME as REMEMBER_COOKIE

from tellcity.accounts import two_factor
from tellcity.accounts.forms import CodeForm, SignInForm, SignUpForm
from tellcity.accounts.models import User
from tellcity.accounts.queries import user_by_id
from tellcity.accounts.services import AccountError, AccountLocked, authenticate, create_user
from tellcity.cities.queries import default_city
from tellcity.core.auth import staff_required
from tellcity.core.errors import Conflict, Invalid, NotAllowed
from tellcity.core.i18n import chosen_by_switch
from tellcity.core.urls import safe_next
from tellcity.extensions import limiter
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
        if user is not None:
            home = url_for("staff.queue") if user.is_staff else url_for("accounts.my_reports")
            target = safe_next(request.args.get("next"), home)
            if user.has_two_factor:
                _start_second_step(user, form.remember.data, target)
                return redirect(url_for(".signin_code"))
            login_user(user, remember=form.remember.data)
            return redirect(target)
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


#: The session's key for a sign-in waiting for its code, and how long it waits (seconds).
PENDING = "signin_pending"
PENDING_SECONDS = 300
#: The session's key for the secret being set up, until a code confirms it.
SETUP_SECRET = "totp_setup_secret"
#: What a member of staff who must set up a second factor may still reach.
SETUP_ALLOWS = frozenset(
    {None, "static", "accounts.two_factor_setup", "accounts.signout", "i18n.switch"}
)


def _start_second_step(user: User, remember: bool, target: str) -> None:
    logout_user()  # whoever was signed in in this browser is no longer
    session[PENDING] = {
        "user": user.id,
        "until": time.time() + PENDING_SECONDS,
        "remember": bool(remember),
        "next": target,
    }


def _pending_user() -> User | None:
    """The user whose password was right a moment ago, if the wait is not over."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or pending.get("until", 0) < time.time():
        return None
    user = user_by_id(pending["user"])
    return user if user is not None and user.is_active and user.has_two_factor else None


@bp.route("/signin/code", methods=["GET", "POST"])
@limiter.limit(_signin_limit, methods=["POST"])
def signin_code():
    """The second step: a code of the app, or a recovery code."""
    user = _pending_user()
    if user is None:
        session.pop(PENDING, None)
        flash(_("Sign in again: the code was not given in time."), "error")
        return redirect(url_for(".signin"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            is_right = two_factor.check_code(user, form.code.data)
        except AccountLocked:
            is_right = False
            session.pop(PENDING, None)
            form.code.errors.append(
                _("Too many failed attempts: this account is locked for 15 minutes.")
            )
        else:
            if not is_right:
                form.code.errors.append(_("Wrong code."))
        if is_right:
            pending = session.pop(PENDING)
            login_user(user, remember=pending["remember"])
            return redirect(pending["next"])
    status = 422 if form.errors else 200
    return render_template("accounts/signin_code.html", form=form), status


@bp.before_app_request
def _second_factor_first():
    """A member of staff who must sign in with a second factor and has none sets it up
    before anything else. Requests without a cookie (most of the public's) are not looked at,
    so that their answers do not vary with one."""
    config = current_app.config
    if (
        request.endpoint in SETUP_ALLOWS
        or request.endpoint.startswith("pwa.")
        or not (
            config["SESSION_COOKIE_NAME"] in request.cookies
            or config.get("REMEMBER_COOKIE_NAME", REMEMBER_COOKIE) in request.cookies
        )
    ):
        return None
    if not current_user.is_authenticated or not two_factor.must_set_up(current_user):
        return None
    if request.method == "GET" and not request.path.startswith(("/api/", "/open311/")):
        return redirect(url_for("accounts.two_factor_setup"))
    raise NotAllowed(
        _("Set up two-factor sign-in first, from your account."), code="two_factor_setup_required"
    )


@bp.get("/two-factor")
@staff_required()
def two_factor_page():
    """Whether the second factor is on; set it up, or new recovery codes, or turn it off."""
    return _two_factor_page(CodeForm(), None)


@bp.route("/two-factor/setup", methods=["GET", "POST"])
@staff_required()
@limiter.limit(_signin_limit, methods=["POST"])
def two_factor_setup():
    """The QR code of a new secret, and the code that confirms the app holds it."""
    user = current_user._get_current_object()
    if user.has_two_factor:
        return redirect(url_for(".two_factor_page"))
    secret = session.get(SETUP_SECRET) or two_factor.new_secret()
    session[SETUP_SECRET] = secret
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.set_up(user, secret, form.code.data)
        except Invalid as error:
            form.code.errors.append(error.message)
        else:
            session.pop(SETUP_SECRET)
            return _recovery_codes_page(codes, first=True)
    uri = two_factor.provisioning_uri(user, secret)
    page = render_template(
        "accounts/two_factor_setup.html",
        form=form,
        secret=secret,
        qr_code=two_factor.qr_code_svg(uri, _("QR code for your two-factor app")),
        is_required=two_factor.is_required(user),
    )
    response = make_response(page, 422 if form.errors else 200)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/two-factor/recovery-codes")
@staff_required()
@limiter.limit(_signin_limit)
def two_factor_recovery_codes():
    """New recovery codes (the old ones stop working), for a current code of the app."""
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.new_recovery_codes(
                current_user._get_current_object(), form.code.data
            )
        except Invalid as error:
            form.code.errors.append(error.message)
        else:
            return _recovery_codes_page(codes, first=False)
    return _two_factor_page(form, "recovery-codes")


@bp.post("/two-factor/off")
@staff_required()
@limiter.limit(_signin_limit)
def two_factor_off():
    """The user's own reset (a new phone), for a code of the app or a recovery code."""
    form = CodeForm()
    if form.validate_on_submit():
        try:
            two_factor.turn_off(current_user._get_current_object(), form.code.data)
        except (Invalid, Conflict) as error:
            form.code.errors.append(error.message)
        else:
            flash(_("Two-factor sign-in is off."), "success")
            return redirect(url_for(".two_factor_page"))
    return _two_factor_page(form, "off")


def _two_factor_page(form: CodeForm, failed: str | None):
    """The account's two-factor page; `failed` names the form whose code was refused."""
    page = render_template(
        "accounts/two_factor.html",
        form=form,
        failed=failed,
        is_required=two_factor.is_required(current_user),
    )
    return page, 422 if form.errors else 200


def _recovery_codes_page(codes: list[str], *, first: bool):
    """The one page that shows the recovery codes: never cached, never shown again."""
    page = render_template("accounts/recovery_codes.html", codes=codes, first=first)
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"
    return response
