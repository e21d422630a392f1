"""Every route in the app's URL map, for every method, as an anonymous visitor, a resident, an
agent and an administrator, is sent what a hostile or unlucky world sends: path parameters,
query strings, forms, multipart and JSON bodies with huge and non-ASCII numbers, control
characters, NUL bytes, lone surrogates, deep nesting and wrong content types, mixed with the
references, tokens and ids that exist so the views go deep. No answer may be a 5xx, and a
refusal (a 4xx, or a redirect to sign in) writes nothing.

The routes are read from `app.url_map`, so a route added tomorrow is walked too. Hypothesis is
derandomized, keeps no example database, and draws a few examples per route and actor, so the
file runs in a bounded time on each database (it prints how long)."""

import contextvars
import json
import re
import tempfile
import time
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import session
from flask_wtf.csrf import generate_csrf
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from werkzeug.routing.converters import AnyConverter, NumberConverter, PathConverter

from tellcity import create_app
from tellcity.categories.models import Category
from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.reports import services
from tellcity.reports.links import (
    reporter_action_token,
    reporter_unsubscribe_url,
    tracking_token,
)
from tellcity.stats.schemas import TABLES
from tests.reports.helpers import submit

#: Rules not walked, and why.
SKIPPED_ENDPOINTS = {
    # Flask's own file server: it reads files from the static folder, none of our code runs.
    "static": "Flask's static file server, not TellCity's code",
}
#: HEAD runs the GET view (werkzeug answers it from the same rule); OPTIONS is answered by
#: Flask itself without calling a view.
UNWALKED_METHODS = {"HEAD", "OPTIONS"}
PLACEHOLDER = re.compile(r"<(?:[^>:]+:)?(\w+)>")
ACTORS = {"anonymous": None, "resident": "resident", "agent": "agent.voirie", "admin": "admin"}
EXAMPLES_PER_ACTOR = 5
SETTINGS = settings(
    max_examples=EXAMPLES_PER_ACTOR,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: the first failure, in bounded time
    suppress_health_check=list(HealthCheck),
)


def _routes() -> tuple[list[tuple[str, str]], dict]:
    """Every (rule, method) walked, and what each rule's placeholders take."""
    with tempfile.TemporaryDirectory() as instance:
        config = {"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": "sqlite://"}
        app = create_app({**config, "INSTANCE_PATH": instance})
        rules = [r for r in app.url_map.iter_rules() if r.endpoint not in SKIPPED_ENDPOINTS]
        routes = sorted((r.rule, m) for r in rules for m in r.methods - UNWALKED_METHODS)
        return routes, {r.rule: dict(r._converters) for r in rules}


ROUTES, CONVERTERS = _routes()

# --- What is sent ------------------------------------------------------------------------------

#: Numbers as requests carry them: digits Python's int() takes but a database column does not
#: (non-ASCII digits, 20 and 30 digits, negative), and what isdigit() takes but int() refuses.
NUMBERS = st.sampled_from(
    [  # the first come first: hypothesis begins with the simplest choices
        *("9" * 30, "\u00b2", "\u0663", "-" + "9" * 30, "18446744073709551616", "9" * 20),
        *("1e309", "\u0661\u0662", "\U0001d7d7", "\u00bd", "\u216b", "2147483648", "-1"),
        *("0", "-0", "1", "1.5", "0x10", "1_000", " 7", "NaN", "inf"),
    ]
) | st.integers(min_value=-(10**30), max_value=10**30).map(str)
#: Text with control characters, NUL, lone surrogates, redirect bypasses, markup, SQL, dates
#: that do not exist and words the app knows, then whatever hypothesis writes.
HOSTILE = st.sampled_from(
    [
        *(
            "\u00e9t\u00e9",
            "x\udfffy",
            "",
            " ",
            "\x00",
            "a\x00b",
            "\x0b",
            "\x1b[31m",
            "\r\n",
            "\t=1+1",
            "\u202e",
            "\ufeff",
        ),
        *("\ud800", "\u00e9" * 300, "x" * 5000, "%", "%00", "%ff", ".."),
        *("../../etc/passwd", "//evil.example/", "/\t/evil.example/", "\\\\evil.example"),
        *("javascript:alert(1)", "<script>alert(1)</script>", "' OR 1=1 --", "null", "[]"),
        *("2026-13-45", "2026-02-30", "0000-00-00", "9999-12-31", "2026-06", "ISS-2026-000001"),
        *("open", "closed", "resolved", "csv", "json", "xml", "fr", "en", "1", "on", "true"),
    ]
) | st.text(max_size=20)
SOFT = HOSTILE.filter(lambda text: not re.search("[\x00\ud800-\udfff]", text))
#: The names the app reads from query strings and forms (request.args, request.form and the
#: forms' fields), and a few it does not.
NAMES = sorted(
    {
        *("q", "page", "order", "sort", "status", "category", "zone", "department", "priority"),
        *("assignee", "sla", "from", "to", "photo", "after", "format", "personal", "next"),
        *("bbox", "lat", "lon", "long", "radius_m", "month", "city", "kind", "period", "role"),
        *("entity", "id", "direction", "active", "ticket", "action", "original", "reason"),
        *("back", "token", "email", "on", "comment", "description", "name", "phone", "address"),
        *("submission_key", "pending_photos", "questions_for", "answers", "attributes", "body"),
        *("category_id", "code", "confirm", "default_priority", "delivery_method", "text"),
        *("department_id", "is_active", "is_external", "is_triage", "keywords", "password"),
        *("remember", "replace", "scopes", "sla_hours", "title", "webhook_url", "zone_id"),
        *("service_code", "service_request_id", "address_string", "media_url", "api_key"),
        *("jurisdiction_id", "start_date", "end_date", "extensions", "page_size", "v", "note"),
        *("name_fr", "name_en", "group_fr", "group_en", "population", "new_secret", "file"),
        *("attribute[size]", "attribute[waste_type][]", "first_name", "last_name", "sw"),
    }
)
CONTENT_TYPES = [
    "text/plain",
    "application/xml",
    "application/json; charset=latin-1",
    "application/json; charset=utf-16",
    "multipart/form-data",  # no boundary
    "application/x-www-form-urlencoded; charset=shift_jis",
    "application/octet-stream",
]
#: JSON bodies no generator would write: nesting 100,000 deep, escapes of NUL and of lone
#: surrogates, numbers past any column, and text that is not JSON at all.
RAW_JSON = [
    "[" * 100_000 + "]" * 100_000,
    '{"a":' * 50_000 + "1" + "}" * 50_000,
    '{"description": "a\\u0000b", "name": "\\u0000"}',
    '{"description": "\\ud800", "category": "\\udfff"}',
    '{"lat": 1e400, "lon": -1e400, "id": 1' + "0" * 40 + "}",
    '{"attributes": {"size": "\\ud83d"}}',
    "NaN",
    "",
    "\x00",
    "{",
    '{"a": 1, "a": 2}',
]
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
FILES = st.sampled_from([PNG, b"", b"\x00" * 64, b"GIF89a", b"<svg onload=alert(1)/>"])


@dataclass
class World:
    """What exists, so that some of what is sent is right and the views go deep."""

    texts: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    #: Right values for a parameter's name: references for `reference`, tokens for `token`...
    by_name: dict[str, list[str]] = field(default_factory=dict)

    def known(self, name: str):
        """A value that exists, the right kind for `name` when it is known."""
        right = self.by_name.get(name) or self.by_name.get(name.rsplit("_", 1)[-1])
        return st.sampled_from(right or self.texts + self.ids)

    def pick(self, name: str, index: int) -> str:
        right = self.by_name.get(name) or self.by_name.get(name.rsplit("_", 1)[-1])
        choices = right or self.texts + self.ids
        return choices[index % len(choices)]


@dataclass
class Probe:
    """One request, as sent."""

    method: str
    path: str
    query: str = ""
    body: bytes = b""
    content_type: str | None = None
    csrf: bool = False

    def _repr_pretty_(self, printer, cycle) -> None:  # hypothesis prints a failing example so
        printer.text(repr(self))

    def __repr__(self) -> str:
        body = self.body[:160] + (b"..." if len(self.body) > 160 else b"")
        where = self.path + (f"?{self.query[:160]}" if self.query else "")
        return f"{self.method} {where} [{self.content_type}, csrf={self.csrf}] {body!r}"


def encoded(text: str, safe: str = "") -> str:
    """Percent-encoded UTF-8, lone surrogates as the bytes a broken client would send."""
    return quote(text.encode("utf-8", "surrogatepass"), safe=safe)


def text_values(world: World):
    return HOSTILE | NUMBERS | st.sampled_from(world.texts + world.ids)


#: How the values of one query string or form are drawn: each named parameter the app reads
#: gets a number, or text without NUL or surrogates (which the app refuses before any view
#: runs), or a value that exists; or a few pairs get anything at all.
THEMES = ("numbers", "texts", "known", "sparse")


def named_values(world: World, theme: str):
    """(name, value) pairs: every name the app reads gets a value of the theme (seven values
    drawn, dealt out in turn: generating a hundred costs more than the requests), or a few
    pairs get anything."""
    if theme == "sparse":
        keys = st.sampled_from(NAMES) | st.text(max_size=8)
        return st.lists(st.tuples(keys, text_values(world)), max_size=4)
    if theme == "known":
        return st.integers(0, 99).map(lambda k: [(n, world.pick(n, k)) for n in NAMES])
    pool = NUMBERS if theme == "numbers" else SOFT
    return st.lists(pool, min_size=7, max_size=7).map(
        lambda values: [(name, values[i % 7]) for i, name in enumerate(NAMES)]
    )


def pairs(world: World, turn: int = 0):
    themes = THEMES[turn % 4 :] + THEMES[: turn % 4]
    return st.sampled_from(themes).flatmap(lambda theme: named_values(world, theme))


def path_strategy(rule: str, world: World, turn: int):
    """The rule with each placeholder filled by a drawn value, percent-encoded: on even turns
    hostile values come first, on odd ones the values that exist (so the views go deep)."""
    converters = CONVERTERS[rule]

    def value(name):
        converter = converters[name]
        if isinstance(converter, AnyConverter):
            return st.sampled_from(sorted(converter.items)) | HOSTILE
        if isinstance(converter, NumberConverter):
            return st.sampled_from(world.ids) | NUMBERS
        if turn % 2:
            return world.known(name) | text_values(world)
        return text_values(world) | world.known(name)

    pieces = []
    for index, part in enumerate(PLACEHOLDER.split(rule)):  # text, name, text, name... text
        if index % 2:
            safe = "/" if isinstance(converters[part], PathConverter) else ""
            pieces.append(value(part).map(lambda v, s=safe: encoded(v, s)))
        else:
            pieces.append(st.just(part))
    return st.tuples(*pieces).map("".join)


def urlencoded(items) -> str:
    return "&".join(f"{encoded(k)}={encoded(v)}" for k, v in items)


def multipart(items, files) -> tuple[bytes, str]:
    boundary = "fuzzboundary7MA4YWxk"
    out = b""
    for name, value in items:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="'.encode()
        out += name.encode("utf-8", "surrogatepass") + b'"\r\n\r\n'
        out += value.encode("utf-8", "surrogatepass") + b"\r\n"
    for name, data in files:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '.encode()
        out += b'filename="x.png"\r\nContent-Type: image/png\r\n\r\n' + data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats()
    | HOSTILE,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def probes(draw, rule: str, method: str, world: World, turn: int) -> Probe:
    """A request to `rule`; `turn` (the actor's) rotates the choices, so that the actors,
    drawn with the same derandomized seed, are not sent the same requests."""
    probe = Probe(
        method, draw(path_strategy(rule, world, turn)), urlencoded(draw(pairs(world, turn)))
    )
    kinds = ["form", "multipart", "json", "raw-json", "wrong-type"]
    kinds = kinds[turn:] + kinds[:turn]
    body = draw(st.sampled_from(["none", "none", "none", *kinds] if method == "GET" else kinds))
    probe.csrf = draw(st.booleans())
    if body == "form":
        probe.body = urlencoded(draw(pairs(world, turn + 1))).encode()
        probe.content_type = "application/x-www-form-urlencoded"
    elif body == "multipart":
        names = st.sampled_from(["photo", "photos", "media", "file", "x"])
        files = draw(st.lists(st.tuples(names, FILES), max_size=2))
        probe.body, probe.content_type = multipart(draw(pairs(world, turn + 2)), files)
    elif body == "json":
        named = pairs(world, turn + 3).map(dict)
        document = draw(named | st.dictionaries(st.sampled_from(NAMES), JSON_VALUES) | JSON_VALUES)
        probe.body, probe.content_type = json.dumps(document).encode(), "application/json"
    elif body == "raw-json":
        raw = draw(st.sampled_from(RAW_JSON))
        probe.body, probe.content_type = raw.encode(), "application/json"
    elif body == "wrong-type":
        probe.body = draw(st.sampled_from([*RAW_JSON[2:], "a=1&b=%00", "<x/>"])).encode()
        probe.content_type = draw(st.sampled_from(CONTENT_TYPES))
    return probe


# --- The world, the actors, the counts ---------------------------------------------------------


@pytest.fixture
def world(app, demo_city, staff) -> World:
    """The demo city, a problem with a reply and a follower, and an idea; what they are
    called and their ids, to be sent with the rest."""
    for name in ("RATELIMIT_SUBMIT", "RATELIMIT_SUPPORT", "RATELIMIT_SIGNIN"):
        app.config[name] = "1000000 per minute"
    report = submit(demo_city, reporter_name="Jeanne")
    idea = submit(demo_city, "idea-mobility", at=None)
    services.reply(report, "Intervention prévue.", Actor.of(staff["agent.voirie"]))
    services.follow(report, "voisin@example.org", confirmed=False)
    db.session.commit()
    found = World()
    for item in (report, idea):
        found.texts += [item.reference, tracking_token(item)]
        found.texts += [reporter_action_token(item, action) for action in ("confirm", "reopen")]
        found.texts.append(reporter_unsubscribe_url(item).rsplit("/", 1)[1])
    for table, column in [("subscriptions", "token"), ("categories", "code"), ("zones", "slug")]:
        found.texts += _column(table, column)
    found.texts += [*TABLES, "csv", "json", "fr", "en"]
    for table in db.metadata.sorted_tables:
        if "id" in table.c:
            found.ids += [str(value) for value in _column(table.name, "id")]
    references = [report.reference, idea.reference]
    found.by_name = {
        **dict.fromkeys(["reference", "service_request_id", "original", "ticket"], references),
        "token": [text for text in found.texts if text not in references],
        **dict.fromkeys(["category", "service_code"], _column("categories", "code")),
        "zone": _column("zones", "slug"),
        "department": [*map(str, _column("departments", "id")), *_column("departments", "slug")],
        "code": ["fr", "en"],
        "table": list(TABLES),
        "fmt": ["csv", "json", "xml"],
        "status": ["open", "new", "in_progress", "resolved", "closed", "under_review"],
        **{name: ["48.8245", "2.2735"] for name in ("lat", "long", "lon")},
        "email": ["jeanne@example.org", "voisin@example.org"],
        "id": found.ids,
        "category_id": [str(id_) for id_ in _column("categories", "id")],
        **{name: ["2026-01", "2026-01-01", "2025-12-31"] for name in ("month", "from", "to")},
    }
    return found


def _column(table: str, column: str) -> list:
    chosen = db.metadata.tables[table]
    if column not in chosen.c:
        return []
    return list(db.session.scalars(sa.select(chosen.c[column]).limit(10)))


def rows() -> tuple[int, ...]:
    """The number of rows in every table, in one query."""
    db.session.rollback()  # see what the requests committed
    counts = [
        sa.select(sa.func.count()).select_from(table).scalar_subquery()
        for table in db.metadata.sorted_tables
    ]
    return tuple(db.session.execute(sa.select(*counts)).one())


def changed(before, after) -> dict:
    names = [table.name for table in db.metadata.sorted_tables]
    return {n: (b, a) for n, b, a in zip(names, before, after, strict=True) if b != a}


def signed_in(app, client, login_as, actor: str | None) -> tuple[dict, str]:
    """The session of `actor` signed in (through the suite's helper), and a CSRF token valid
    in it (made by Flask-WTF, as a form page would)."""
    login_as(actor)
    token, secret = contextvars.Context().run(_new_csrf_token, app)
    with client.session_transaction() as signed:
        signed["csrf_token"] = secret
        return dict(signed), token


def _new_csrf_token(app) -> tuple[str, str]:
    with app.app_context(), app.test_request_context():  # a context of its own: nothing on g
        return generate_csrf(), session["csrf_token"]


def send(client, probe: Probe, session: dict, token: str):
    with client.session_transaction() as current:  # a probe may have signed out, or in
        current.clear()
        current.update(session)
    headers = {"X-CSRFToken": token} if probe.csrf else {}
    body = probe.body
    if probe.csrf and probe.content_type == "application/x-www-form-urlencoded":
        body = (f"csrf_token={token}&".encode() + body) if body else f"csrf_token={token}".encode()
    return client.open(
        probe.path,
        method=probe.method,
        query_string=probe.query,
        data=body,
        content_type=probe.content_type,
        headers=headers,
    )


def is_refusal(response) -> bool:
    if 400 <= response.status_code < 500:
        return True
    return response.status_code in (301, 302, 303) and "/account/signin" in (
        response.location or ""
    )


def where_raised(error: Exception) -> str:
    """The deepest line of TellCity's code the error went through."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if "/tellcity/" in f.filename]
    return f"at {frames[-1].filename.split('/tellcity/')[-1]}:{frames[-1].lineno}" if frames else ""


def check(client, probe: Probe, session: dict, token: str) -> None:
    before = rows()
    try:
        response = send(client, probe, session, token)
    except Exception as error:
        where = where_raised(error)
        raise AssertionError(f"{probe!r} raised {type(error).__name__}: {error} {where}") from error
    assert response.status_code < 500, f"{probe!r} answered {response.status_code}"
    if is_refusal(response):
        writes = changed(before, rows())
        assert not writes, f"{probe!r} refused ({response.status_code}) but wrote {writes}"


# --- The walk ----------------------------------------------------------------------------------


def test_the_walk_covers_every_route(app):
    walked = {rule for rule, _ in ROUTES}
    every = {r.rule for r in app.url_map.iter_rules() if r.endpoint not in SKIPPED_ENDPOINTS}
    assert walked == every and len(ROUTES) > 100


def test_the_walk_s_csrf_token_reaches_the_views(app, client, login_as, staff):
    """A probe with the token gets past CSRF (signing out redirects), one without does not."""
    signed, token = signed_in(app, client, login_as, "resident")
    with_token = Probe("POST", "/account/signout", csrf=True)
    with_token.content_type = "application/x-www-form-urlencoded"
    assert send(client, with_token, signed, token).status_code == 302
    without = Probe("POST", "/account/signout", content_type=with_token.content_type)
    assert send(client, without, signed, token).status_code == 400


@pytest.mark.parametrize(
    "body", ['[[{}], {"active": 1}]', "[1]", '"x"', '{"code": 5}', '{"name_fr": ["a", {"b": 1}]}']
)
def test_a_json_body_to_a_page_s_form_is_an_empty_form(app, client, login_as, world, body):
    """Found by the walk: Flask-WTF read a JSON body as a page's form (a 500 for a list or a
    number, an object saved as a category's name). Now the form is empty: refused, unsaved."""
    signed, token = signed_in(app, client, login_as, "admin")
    category_id = world.by_name["category_id"][0]
    before = db.session.get(Category, int(category_id)).name_fr
    url = f"/staff/admin/categories/{category_id}"
    probe = Probe("POST", url, body=body.encode(), content_type="application/json", csrf=True)
    check(client, probe, signed, token)
    db.session.rollback()
    assert db.session.get(Category, int(category_id)).name_fr == before


@pytest.mark.parametrize(("rule", "method"), ROUTES, ids=[f"{m} {r}" for r, m in ROUTES])
def test_no_request_crashes_or_writes_when_refused(app, client, login_as, world, rule, method):
    failures = []
    for turn, (actor, account) in enumerate(ACTORS.items()):
        signed, token = signed_in(app, client, login_as, account)
        try:
            walk(client, probes(rule, method, world, turn), signed, token)
        except AssertionError as error:
            failures.append(f"as {actor}: {str(error).splitlines()[0]}")
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)


def walk(client, requests, session: dict, token: str) -> None:
    @SETTINGS
    @given(probe=requests)
    def send_one(probe):
        check(client, probe, session, token)

    send_one()


SPENT = defaultdict(float)


@pytest.fixture(autouse=True)
def _timed(backend):
    started = time.perf_counter()
    yield
    SPENT[backend[0]] += time.perf_counter() - started


@pytest.fixture(scope="module", autouse=True)
def _report_time(request):
    yield
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        for name, seconds in SPENT.items():
            if seconds < 1:  # only the check of the URL map ran on that database
                continue
            print(
                f"\nWalking {len(ROUTES)} routes as {len(ACTORS)} actors on {name}: {seconds:.0f} s"
            )
    SPENT.clear()
