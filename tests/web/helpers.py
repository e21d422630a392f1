"""Driving the HTML pages as a browser without JavaScript does."""

import re

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
KEY = re.compile(r'name="submission_key" value="([^"]+)"')


def form_tokens(client, url: str) -> dict:
    """The hidden fields a browser would send back with the form at `url`."""
    page = client.get(url).get_data(as_text=True)
    tokens = {"csrf_token": CSRF.search(page).group(1)}
    if match := KEY.search(page):
        tokens["submission_key"] = match.group(1)
    return tokens


def post_form(client, url: str, data: dict, page: str | None = None, **kwargs):
    """POST `data` to `url` with the hidden fields of the form on `page` (default: `url`).
    On the report form, the questions of the category chosen count as shown (as they are to
    a browser with JavaScript, or once the category was chosen), unless `data` says."""
    tokens = form_tokens(client, page or url)
    if "category" in data:
        tokens["questions_for"] = data["category"]
    return client.post(url, data={**tokens, **data}, content_type="multipart/form-data", **kwargs)


def text(response) -> str:
    return response.get_data(as_text=True)
