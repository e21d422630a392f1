"""Every return address a request carries keeps the user on this site: the language switch,
sign-in, "me too", following by email and the staff queue's bulk actions are each tried with a
corpus of known open-redirect bypasses, and the browser's reading of the answer's Location must
land on our host. Return addresses of our own pages keep working."""

from urllib.parse import quote, unquote, urljoin, urlsplit

import pytest

from tellcity.extensions import db
from tests.reports.helpers import submit
from tests.web.helpers import form_tokens

#: Return addresses as an attacker writes them in a link or a form (a browser percent-encodes
#: spaces, controls and other characters itself; `%..` here is the attacker's own encoding).
BYPASSES = [
    "//evil.example",
    "//evil.example/",
    "///evil.example",
    "////evil.example/",
    "/\\evil.example",
    "\\/evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "/%09/evil.example/",  # the issue's: a tab a browser drops
    "/%0a/evil.example",
    "/%0d/evil.example",
    "/\t/evil.example",
    "//%09/evil.example",
    "/%09%09/evil.example",
    "/%5Cevil.example",
    "/%5C/evil.example",
    "%5C%5Cevil.example",
    "/%2F/evil.example",
    "/%2F%2Fevil.example",
    "%2F%2Fevil.example",
    "/%252F%252Fevil.example",  # double-encoded
    "/%25252F/evil.example",  # triple-encoded
    "%252F%252Fevil.example",
    "https:evil.example",
    "https:/evil.example",
    "http://evil.example",
    "https://evil.example/",
    "HTTPS://evil.example",
    "http:\\\\evil.example",
    "http://localhost@evil.example",
    "//localhost@evil.example",
    "//evil.example%23@localhost",
    "/ /evil.example",
    " //evil.example",
    "%20//evil.example",
    "%00//evil.example",
    "%0d%0a//evil.example",
    "\x0b//evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java%0d%0ascript:alert(1)",
    "java\tscript:alert(1)",
    "%09javascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "〱evil.example",
    "/〱evil.example",
    "\uff0f\uff0fevil.example"  # full-width solidi,
    "/\uff0fevil.example",
    "/\uff3cevil.example"  # full-width reverse solidus,
    "//evil%E3%80%82example",
    "evil.example",
    ".evil.example",
    "/.evil.example",
    "@evil.example",
    "/%0D%0ALocation:%20https://evil.example",
    "/%ED%A0%80",  # a lone surrogate once decoded
]

#: Return addresses our own pages put in their links and forms (request.full_path).
OURS = [
    "/ideas",
    "/ideas?page=2&sort=recent",
    "/reports?category=pothole&status=open",
    "/staff/?status=new&q=rue%20de%20l%27%C3%89glise",
    "/staff/?",
]


def link(path: str, name: str, target: str) -> str:
    """`path` with the query `name=target` as a browser sends a link written so."""
    printable = "".join(chr(code) for code in range(0x21, 0x7F))
    return f"{path}?{name}={quote(target, safe=printable)}"


def landing(response) -> set[tuple[str, str]]:
    """Where a browser goes after `response`: the scheme and host of its Location resolved
    against the request's URL, read as browsers read URLs (controls and spaces stripped from the
    ends, tabs and newlines dropped, a backslash taken as a slash); and the same after a proxy or
    an app decodes it once more."""
    location = response.headers["Location"]
    assert location.isascii(), location  # a header a server can send
    hosts = set()
    for form in (location, unquote(location)):
        read = form.strip("".join(map(chr, range(0x21)))).replace("\\", "/")
        read = "".join(char for char in read if char not in "\t\n\r")
        resolved = urlsplit(urljoin(response.request.url, read))
        hosts.add((resolved.scheme, resolved.hostname))
    return hosts


def off_site(responses: dict) -> dict:
    """The targets whose answer sends the browser off this site, or is neither a redirect nor a
    refusal (a NUL byte in a query is refused with a 400: nobody goes anywhere)."""
    here = {("http", "localhost")}
    return {
        target: response.headers.get("Location", response.status_code)
        for target, response in responses.items()
        if response.status_code != 400
        and (response.status_code != 302 or landing(response) != here)
    }


@pytest.fixture
def report(demo_city):
    report = submit(demo_city, "pothole")
    db.session.commit()
    return report


def test_the_language_switch_stays_on_the_site(client):
    answers = {t: client.get(link("/lang/en", "next", t)) for t in BYPASSES}
    assert off_site(answers) == {}
    assert answers["/%09/evil.example/"].location == "/"


def test_sign_in_stays_on_the_site(app, client, staff):
    app.config["RATELIMIT_SIGNIN"] = "1000 per minute"
    agent = staff["agent.voirie"]
    agent.set_password("un mot de passe solide")
    db.session.commit()
    credentials = {"email": agent.email, "password": "un mot de passe solide"}
    tokens = form_tokens(client, "/account/signin")
    answers = {
        target: client.post(link("/account/signin", "next", target), data={**tokens, **credentials})
        for target in BYPASSES
    }
    assert off_site(answers) == {}
    assert answers["//evil.example"].location == "/staff/"


def test_me_too_and_following_stay_on_the_site(app, client, report):
    app.config["RATELIMIT_SUPPORT"] = "1000 per minute"
    page = f"/reports/{report.reference}"
    tokens = form_tokens(client, page)
    for action, fields in (("support", {}), ("follow", {"email": "voisin@example.org"})):
        answers = {
            target: client.post(f"{page}/{action}", data={**tokens, **fields, "next": target})
            for target in BYPASSES
        }
        assert off_site(answers) == {}, action
        assert answers["/%09/evil.example/"].location.startswith(page), action


def test_the_staff_queue_bulk_action_stays_on_the_site(client, login_as):
    login_as("agent.voirie")
    tokens = form_tokens(client, "/staff/")
    answers = {
        target: client.post("/staff/bulk", data={**tokens, "action": "ack", "back": target})
        for target in BYPASSES
    }
    assert off_site(answers) == {}
    assert answers["/\\evil.example"].location == "/staff/"


@pytest.mark.parametrize("target", OURS)
def test_our_own_return_addresses_keep_working(client, report, target):
    back = unquote(target.rstrip("?"))
    switch = client.get("/lang/en", query_string={"next": target})
    assert unquote(switch.location) == back
    page = f"/reports/{report.reference}"
    supported = client.post(f"{page}/support", data={**form_tokens(client, page), "next": target})
    assert unquote(supported.location) == back


def test_staff_sent_to_sign_in_come_back_to_the_page_they_asked_for(app, client, staff):
    agent = staff["agent.voirie"]
    agent.set_password("un mot de passe solide")
    db.session.commit()
    asked = client.get("/staff/?status=new&q=%C3%89glise")
    assert asked.status_code == 302 and asked.location.startswith("/account/signin?next=")
    credentials = {"email": agent.email, "password": "un mot de passe solide"}
    signed_in = client.post(
        asked.location, data={**form_tokens(client, asked.location), **credentials}
    )
    assert unquote(signed_in.location) == "/staff/?status=new&q=Église"
