"""The answers no cache may keep: `Cache-Control: private, no-store`, so that neither a shared
cache (a proxy, a CDN) nor the browser's history and disk keep a page meant for one person.

An answer is private when

- it comes from a private part of the site (PRIVATE_BLUEPRINTS): a reporter's tracking page
  and what its links lead to (confirm, reopen), the pages reached from an email's link with its
  token in the address (unsubscribe, confirm a subscription), the account pages, and everything
  under /staff/ (the queue, tickets, administration, the mayor's statistics and their API);
- or it was made for a signed-in user (it read who they are: their name, their links, a form
  token bound to their session) and its view set no caching of its own. A public page that did
  keeps it: the public statistics say `private, max-age` to a signed-in user.

Everything else keeps the caching its view gave it (static files for good, feeds and Open311
lists revalidated...), or none. Applied after every view, error pages included.
"""

from flask import Flask, Response, g, request

PRIVATE = "private, no-store"

#: Blueprints whose every answer is private (blueprint names as in the URL map).
PRIVATE_BLUEPRINTS = frozenset(
    {"tracking", "notify", "accounts", "staff", "ticket", "admin", "stats", "stats_api"}
)


def _keep_private(response: Response) -> Response:
    if request.blueprint in PRIVATE_BLUEPRINTS or (
        _made_for_signed_in_user() and "Cache-Control" not in response.headers
    ):
        response.headers["Cache-Control"] = PRIVATE
    return response


def _made_for_signed_in_user() -> bool:
    """Whether the answer read the signed-in user. Flask-Login keeps the user it loaded on `g`
    (as `_login_user`, the first time `current_user` is read): an answer that never read it
    cannot depend on who asked, and asking here would load it (and mark the session read,
    adding `Vary: Cookie`) for every static file."""
    user = g.get("_login_user")
    return user is not None and user.is_authenticated


def init_app(app: Flask) -> None:
    app.after_request(_keep_private)
