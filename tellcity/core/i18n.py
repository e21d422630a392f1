"""Languages: French by default, English by choice — the visible switch (a cookie), then the
language a signed-in user chose, then the browser's languages, then (for a signed-in user) their
city's language. A user who never chose one (User.locale is None) reads the pages in their
browser's language, not in French because their account was made so.

Time zones: every time shown to a person is in the time zone of the city it is about (see
select_timezone), through Flask-Babel's formatting and the filters below."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from babel import Locale
from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import (
    format_date,
    format_datetime,
    get_locale,
    get_timezone,
    refresh,
)
from flask_login import current_user
from flask_login.config import COOKIE_NAME

from tellcity.accounts.services import choose_language
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
    browser = request.accept_languages.best_match(LANGUAGES)
    if browser is not None:
        return browser
    city = user.city if user is not None else None
    return city.locale if city is not None and city.locale in LANGUAGES else LANGUAGES[0]


def chosen_by_switch() -> str | None:
    """The language this browser chose with the switch, if it did (a new account keeps it)."""
    chosen = request.cookies.get(COOKIE)
    return chosen if chosen in LANGUAGES else None


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
    """Remember the chosen language and go back to the page the switch was on: in a cookie,
    and for a signed-in user in their account too, so that it follows them to other browsers.
    A link, not a form, so that it works anywhere; a page elsewhere that links here can at
    most change the language someone reads, which the switch undoes."""
    response = redirect(safe_next(request.args.get("next"), url_for("reports.home")))
    if code in LANGUAGES:
        response.set_cookie(COOKIE, code, max_age=ONE_YEAR, samesite="Lax", httponly=True)
        user = _signed_in_user()
        if user is not None:
            choose_language(user, code)
    return response


#: Where `g` keeps the time zone named for the request or the work at hand.
_TIMEZONE = "shown_timezone"


def select_timezone() -> str | None:
    """The time zone times are shown in (Flask-Babel's selector): the one named for the work
    at hand (show_times_of: the city a page is about; times_in: the city an email or an
    export is about), else the signed-in user's city's, else the default city's. None (no
    city at all) leaves the configured BABEL_DEFAULT_TIMEZONE."""
    named = g.get(_TIMEZONE)
    if named:
        return named
    if not has_request_context():
        return None
    user = _signed_in_user()
    if user is not None and user.city is not None:
        return user.city.timezone
    from tellcity.cities.queries import default_city  # cities' queries name a page's city here

    city = default_city()
    return city.timezone if city is not None else None


def show_times_of(city) -> None:
    """Show the rest of this request's times in `city`'s time zone: the city its page is
    about (cities.queries.current_city names it; a page about one report names the report's)."""
    _name_timezone(city.timezone)


@contextmanager
def times_in(timezone: str | None) -> Iterator[None]:
    """Times formatted inside the block are shown in `timezone`, as flask_babel.force_locale
    does for the language: for work about one city outside a request about it (the worker's
    emails, a command's export). None leaves the usual choice (select_timezone)."""
    before = g.get(_TIMEZONE)
    _name_timezone(timezone)
    try:
        yield
    finally:
        _name_timezone(before)


def shown_zone() -> ZoneInfo:
    """The time zone times are shown in now, for code that works out local days itself."""
    return ZoneInfo(get_timezone().zone)


def iso_local(moment: datetime, zone: tzinfo) -> str:
    """`moment` in `zone`, in ISO 8601 with its offset, to the second: 2026-01-15T00:00:00-05:00,
    the local time a reader (or a spreadsheet's clerk) expects, and still the exact moment."""
    return moment.astimezone(zone).isoformat(timespec="seconds")


def _name_timezone(timezone: str | None) -> None:
    # Flask-Babel keeps the time zone it selected until refresh() (which also drops the
    # language it selected, chosen again at once, and keeps a forced one).
    if g.get(_TIMEZONE) != timezone:
        setattr(g, _TIMEZONE, timezone)
        refresh()


def datetime_local(moment, format: str = "d MMM y, HH:mm") -> str:
    """A date and time in the city's time zone and the page's language."""
    return format_datetime(moment, format) if moment else ""


def date_local(moment, format: str = "d MMMM y") -> str:
    """A day in the page's language; a moment's day is the city's (Flask-Babel moves it into
    the selected time zone first)."""
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
