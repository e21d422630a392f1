"""Driving the dashboard over HTTP with the CSRF token of the signed-in session."""

from tests.web.helpers import form_tokens


def post(client, url: str, **data):
    token = form_tokens(client, "/report")["csrf_token"]
    return client.post(url, data={"csrf_token": token, **data})


def flashes(client) -> list[str]:
    with client.session_transaction() as session:
        return [message for _category, message in session.get("_flashes", [])]
