"""What the administration views share: the city being administered, rows of it, and running
a service (core/actions.attempt) — its refusal shown on the form or in a flash message. The
request commits."""

from collections.abc import Callable
from typing import TypeVar

from flask import abort, make_response, redirect, render_template
from flask_login import current_user
from flask_wtf import FlaskForm

from tellcity.admin import queries
from tellcity.cities.models import City
from tellcity.cities.queries import current_city
from tellcity.core.actions import attempt
from tellcity.core.errors import Conflict, Invalid, TellCityError

T = TypeVar("T")


def admin_city() -> City:
    """The city the signed-in member of staff administers: their own, or for an administrator
    of every city, the default one (NotFound when there is none)."""
    return current_city(own_city_id=current_user.city_id)


def city_row_or_404(model, row_id: int, city: City):
    row = queries.city_row(model, row_id, city)
    if row is None:
        abort(404)
    return row


def save(form: FlaskForm, action: Callable[[], T]) -> tuple[bool, T | None]:
    """Run `action` (a service call) and return (True, its result); when the service refuses
    (Invalid, Conflict), put its message under the form field it names (or above the form)
    and return (False, None). NotAllowed goes on to the 403 page."""
    outcome = attempt(action, refusals=(Invalid, Conflict))
    if outcome.error is not None:
        _show_error(form, outcome.error)
    return outcome.is_done, outcome.result


def _show_error(form: FlaskForm, error: TellCityError) -> None:
    field = form[error.field] if error.field and error.field in form else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def act(action: Callable[[], object], done: str, back: str):
    """Run the service behind a button (delete, revoke, move...) and say `done`, or why not;
    then go `back`."""
    attempt(action, done=done, refusals=(Invalid, Conflict))
    return redirect(back)


def form_page(page: str, form: FlaskForm, **context):
    """The template `page` with its form: 422 when the form came back with errors."""
    status = 422 if form.errors else 200
    return render_template(page, form=form, **context), status


def secret_page(title: str, items: list[tuple[str, str]], back: str, note: str = ""):
    """The one page that shows a password or a key: never cached, never shown again."""
    page = render_template("admin/secret.html", title=title, items=items, back=back, note=note)
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"
    return response
