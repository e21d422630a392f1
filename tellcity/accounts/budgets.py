"""How many reports a client may send, one rule for every front end (the web form, a phone's
kept reports, /api/v1, Open311): a person's budget is counted per client address
(RATELIMIT_SUBMIT), a program's per API key (its own `rate_limit`, else RATELIMIT_API_KEY).
An app serving a whole city sends for thousands of residents from one address: counted with
the public, it was refused after a dozen reports.

Both are counted in the rate limiter's store: shared by every process when it is Redis
(RATELIMIT_STORAGE_URI). A key that is not valid counts as no key: the view refuses it.

    @limiter.limit(submissions, key_func=submitter)
"""

from flask import current_app, g
from flask_limiter.util import get_remote_address

from tellcity.accounts.api_keys import authenticate, presented_key
from tellcity.accounts.models import ApiKey

_UNSET = object()


def request_api_key() -> ApiKey | None:
    """The valid API key the request carries (header, or Open311's `api_key` parameter),
    authenticated once per request; None without one or with one that is not valid."""
    found = g.get("tellcity_api_key", _UNSET)
    if found is _UNSET:
        found = g.tellcity_api_key = authenticate(presented_key(form_parameter=True))
    return found


def submissions() -> str:
    """The budget of the request's submissions: its API key's, else the public's."""
    api_key = request_api_key()
    if api_key is None:
        return current_app.config["RATELIMIT_SUBMIT"]
    return api_key.rate_limit or current_app.config["RATELIMIT_API_KEY"]


def submitter() -> str:
    """Whose budget a submission counts against: its API key's, else its address's."""
    api_key = request_api_key()
    return f"api-key:{api_key.id}" if api_key is not None else get_remote_address()
