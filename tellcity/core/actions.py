"""Running a service for a page: the one wrapper behind every form and button.

The request commits (see core/transaction.py); this only decides what the page says. A refusal
(a TellCityError) rolls back what the service wrote before it refused, at once, so that the page
shown next shows the data as it stands; the refusal is then flashed or put on the form by the
caller. Success is flashed once the data is committed, never before.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import flash

from tellcity.core.errors import TellCityError
from tellcity.core.transaction import after_commit
from tellcity.extensions import db

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What a service call gave back (`result`), or why it was refused (`error`)."""

    result: T | None = None
    error: TellCityError | None = None

    @property
    def is_done(self) -> bool:
        return self.error is None


def attempt(
    action: Callable[[], T],
    *,
    done: str | None = None,
    refusals: tuple[type[TellCityError], ...] = (TellCityError,),
) -> Outcome[T]:
    """Run `action` (a service call). When it raises one of `refusals`, roll back what it wrote
    and return the error; anything else (NotAllowed where it is not listed, a bug) goes on to
    the error pages. With `done`, flash it once the request has committed, or flash the
    refusal."""
    try:
        result = action()
    except refusals as error:
        db.session.rollback()
        if done is not None:
            flash(error.message, "error")
        return Outcome(error=error)
    if done is not None:
        after_commit(lambda: flash(done, "success"))
    return Outcome(result=result)
