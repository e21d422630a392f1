"""No staff route is left unguarded: every rule under /staff, whatever its method, sends an
anonymous visitor to sign in and refuses a resident — found from the app's own URL map, so a
route added tomorrow is checked too."""

import re

import pytest

from tellcity.extensions import db
from tests.reports.helpers import submit
from tests.web.helpers import form_tokens

PLACEHOLDER = re.compile(r"<(?:(\w+):)?(\w+)>")


def staff_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/staff"):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule.rule, method


def concrete(rule: str, reference: str) -> str:
    def value(match):
        converter, name = match.groups()
        if converter in ("int", "bigid", "float"):
            return "1"
        return reference if name == "reference" else "x"

    return PLACEHOLDER.sub(value, rule)


@pytest.mark.parametrize("visitor", ["anonymous", "resident"])
def test_every_staff_route_refuses_outsiders(app, client, login_as, demo_city, visitor):
    reference = submit(demo_city).reference
    db.session.commit()
    login_as(None if visitor == "anonymous" else "resident")
    token = form_tokens(client, "/report")["csrf_token"]
    checked = 0
    for rule, method in staff_rules(app):
        url = concrete(rule, reference)
        response = client.open(url, method=method, data={"csrf_token": token})
        if visitor == "anonymous":
            assert response.status_code in (302, 401), (method, url, response.status_code)
            if response.status_code == 302:
                assert "/account/signin" in response.location, (method, url)
        else:
            assert response.status_code in (403, 404), (method, url, response.status_code)
        checked += 1
    assert checked >= 20
