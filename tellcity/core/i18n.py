"""Languages: French by default, English by choice — the visible switch (a cookie), then a
signed-in user's preference, then the browser's languages."""

from babel import Locale
from flask import (
    Blueprint,
    Flask,
    current_app,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import format_date, format_datetime, get_locale
from flask_login import current_user
from flask_login.config import COOKIE_NAME

from tellcity.core.urls import safe_next

LANGUAGES = ("fr", "en")
COOKIE = "lang"
ONE_YEAR = 365 * 24 * 3600

bp = Blueprint("i18n", __name__)


#: Babel's Locale of each language, made once: Flask-Babel parses what the selector gives on
#: every request (looking for the language's data file each time) unless it is a Locale.
_LOCALES = {code: Locale.parse(code) for code in LANGUAGES}


def select_locale() -> Locale:
    return _LOCALES[_chosen_language()]


def _chosen_language() -> str:
    if not has_request_context():  # a command, the worker: the default language
        return LANGUAGES[0]
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    user = _signed_in_user()
    if user is not None and user.locale in LANGUAGES:
        return user.locale
    return request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]


def _signed_in_user():
    """The signed-in user, where the request could carry one. With neither a session that
    names a user nor a "remember me" cookie nobody is signed in, and Flask-Login is not asked
    (it would check the session's protection first, a hash of the address and browser: an
    app's submission pays for it for nothing)."""
    remember = current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME)
    if "_user_id" not in session and remember not in request.cookies:
        return None
    return current_user if current_user.is_authenticated else None


@bp.get("/lang/<code>")
def switch(code: str):
    """Remember the chosen language and go back to the page the switch was on."""
    response = redirect(safe_next(request.args.get("next"), url_for("reports.home")))
    if code in LANGUAGES:
        response.set_cookie(COOKIE, code, max_age=ONE_YEAR, samesite="Lax", httponly=True)
    return response


def datetime_local(moment, format: str = "d MMM y, HH:mm") -> str:
    """A date and time in the city's time zone and the page's language."""
    return format_datetime(moment, format) if moment else ""


def date_local(moment, format: str = "d MMMM y") -> str:
    return format_date(moment, format) if moment else ""


def translated(labels: dict) -> dict:
    """Lazily translated labels, translated once: for a page that shows them on every row."""
    return {key: str(label) for key, label in labels.items()}


def init_app(app: Flask) -> None:
    from tellcity.core.text import mask_contacts_filter, public_text
    from tellcity.reports.states import PRIORITY_LABELS, STATUS_LABELS

    app.jinja_env.globals.update(
        get_locale=get_locale,
        LANGUAGES=LANGUAGES,
        STATUS_LABELS=STATUS_LABELS,
        PRIORITY_LABELS=PRIORITY_LABELS,
        translated=translated,
        has_endpoint=lambda name: name in app.view_functions,
        public_text=public_text,
    )
    app.jinja_env.filters.update(
        datetime_local=datetime_local, date_local=date_local, mask_contacts=mask_contacts_filter
    )
