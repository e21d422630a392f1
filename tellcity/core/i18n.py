"""Languages: French by default, English by choice — the visible switch (a cookie), then a
signed-in user's preference, then the browser's languages."""

from flask import Blueprint, Flask, has_request_context, redirect, request, url_for
from flask_babel import format_date, format_datetime, get_locale
from flask_login import current_user

from tellcity.core.urls import safe_next

LANGUAGES = ("fr", "en")
COOKIE = "lang"
ONE_YEAR = 365 * 24 * 3600

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    if not has_request_context():  # a command, the worker: the default language
        return LANGUAGES[0]
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    return request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]


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
    from tellcity.core.text import mask_contacts
    from tellcity.reports.states import PRIORITY_LABELS, STATUS_LABELS

    app.jinja_env.globals.update(
        get_locale=get_locale,
        LANGUAGES=LANGUAGES,
        STATUS_LABELS=STATUS_LABELS,
        PRIORITY_LABELS=PRIORITY_LABELS,
        translated=translated,
        has_endpoint=lambda name: name in app.view_functions,
    )
    app.jinja_env.filters.update(
        datetime_local=datetime_local, date_local=date_local, mask_contacts=mask_contacts
    )
