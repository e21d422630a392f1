"""Open311's reads that programs poll are kept whole by the app process (tellcity.core
kept_answers): the same question asked again is answered after one statement has shown that
nothing changed, and never once something a client could see has changed, whoever changed it;
nobody's own request (a cookie, an API key) is answered from what was kept."""

import json
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from tellcity.categories.services import update_category
from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.reports import services
from tellcity.reports.lifecycle import transition
from tellcity.staff.services import hide_report
from tests.factories import make_city
from tests.open311.helpers import new_key
from tests.reports.helpers import category, submit
from tests.test_app import closed_port


@pytest.fixture
def city(demo_city):
    submit(demo_city, "pothole", description="Un premier trou")
    db.session.commit()
    return demo_city


@contextmanager
def statements():
    """The statements the app runs on the database meanwhile, as a list."""
    ran = []

    def count(_conn, _cursor, statement, *_args):
        ran.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield ran
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


def urls(report) -> dict[str, str]:
    return {
        "services": "/open311/v2/services.json",
        "services in XML": "/open311/v2/services.xml",
        "a definition": "/open311/v2/services/pothole.json",
        "requests": "/open311/v2/requests.json",
        "a page of requests": "/open311/v2/requests.xml?page_size=2&page=1",
        "one request": f"/open311/v2/requests/{report.reference}.json",
        "its updates": "/open311/v2/servicerequestupdates.json",
    }


def test_a_question_asked_again_costs_one_statement(client, city):
    report = submit(city, "graffiti", description="Un tag")
    db.session.commit()
    for name, url in urls(report).items():
        first = client.get(url)
        assert first.status_code == 200, name
        with statements() as ran:
            again = client.get(url)
        assert len(ran) == 1, name  # the versions, read again: nothing else
        assert again.status_code == 200
        assert again.data == first.data, name
        for header in ("Content-Type", "ETag", "Cache-Control", "Vary", "X-Frame-Options"):
            assert again.headers.get(header) == first.headers.get(header), (name, header)
        assert again.headers["X-Request-ID"] != first.headers["X-Request-ID"]


def test_every_change_a_client_could_see_is_answered_at_once(app, client, city, staff):
    report = submit(city, "graffiti", description="Un tag")
    db.session.commit()
    asked = urls(report)
    agent = Actor.of(staff["admin"])
    browser = app.test_client()
    browser.set_cookie("unrelated", "1")

    def fresh(url: str) -> bytes:
        """The app's own answer, made again (a cookie: nothing kept answers it)."""
        return browser.get(url).data

    def changed_by(change) -> set[str]:
        before = {name: client.get(url).data for name, url in asked.items()}
        assert {name: client.get(url).data for name, url in asked.items()} == before
        change()
        db.session.commit()  # not through the app: as another process would
        after = {name: client.get(url).data for name, url in asked.items()}
        assert after == {name: fresh(url) for name, url in asked.items()}
        return {name for name in asked if after[name] != before[name]}

    assert changed_by(lambda: submit(city, "pothole", description="Un autre")) >= {"requests"}
    moved = changed_by(lambda: transition(report, "resolved", agent, text="Réparé."))
    assert moved >= {"requests", "one request", "its updates", "a page of requests"}
    assert b'"status":"closed"' in client.get(asked["one request"]).data
    answered = changed_by(lambda: services.reply(report, "Nous sommes passés.", agent))
    assert "its updates" in answered
    pothole = category(city, "pothole")
    rename = {"name_fr": "Nids de poule et ornières", "name_en": "Potholes"}
    renamed = changed_by(lambda: update_category(pothole, rename, actor=agent))
    assert renamed >= {"services", "services in XML", "requests"}
    assert "Nids de poule et ornières" in client.get(asked["services"]).get_data(as_text=True)
    hidden = changed_by(lambda: hide_report(report, agent, "Doublon d'un autre signalement"))
    assert hidden >= {"requests", "one request"}
    assert client.get(asked["one request"]).status_code == 404


def test_each_language_and_encoding_is_its_own_answer(client, city):
    french = client.get("/open311/v2/services.json", headers={"Accept-Language": "fr"})
    english = client.get("/open311/v2/services.json", headers={"Accept-Language": "en"})
    assert french.data != english.data
    for _ in range(2):
        assert client.get("/open311/v2/services.json", headers={"Accept-Language": "en"}).data == (
            english.data
        )
        assert client.get("/open311/v2/services.json", headers={"Accept-Language": "fr"}).data == (
            french.data
        )
    packed = client.get("/open311/v2/services.json", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    plain = client.get("/open311/v2/services.json", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and plain.data == french.data


def test_a_second_city_makes_the_question_need_its_jurisdiction(client, city):
    assert client.get("/open311/v2/services.json").status_code == 200
    assert client.get("/open311/v2/services.json").status_code == 200
    make_city(slug="vanves", name="Vanves")
    db.session.commit()
    refused = client.get("/open311/v2/services.json")
    assert refused.status_code == 400
    assert "jurisdiction_id" in refused.get_data(as_text=True)


def test_nobodys_own_request_is_answered_from_what_was_kept(app, client, city):
    url = "/open311/v2/requests.json"
    client.get(url)
    secret = new_key(city)
    browser = app.test_client()
    browser.set_cookie("lang", "fr")
    browser.get(url)
    with statements() as ran:
        assert browser.get(url).status_code == 200
    assert len(ran) > 1  # answered by the app itself
    for headers, query in (
        ({"X-Api-Key": secret}, ""),
        ({}, f"?api_key={secret}"),
        ({"Authorization": f"Bearer {secret}"}, ""),
    ):
        client.get(url + query, headers=headers)
        with statements() as ran:
            answer = client.get(url + query, headers=headers)
        assert answer.status_code == 200
        assert len(ran) > 1, headers or query  # answered by the app itself


def test_nothing_is_kept_with_no_room_for_it(app, client, city):
    app.config["KEPT_ANSWERS_BYTES"] = 0
    client.get("/open311/v2/requests.json")
    with statements() as ran:
        client.get("/open311/v2/requests.json")
    assert len(ran) > 1
    # Room for a few small answers: the least recently used go first.
    app.config["KEPT_ANSWERS_BYTES"] = 20_000
    page = "/open311/v2/requests.json?page_size=1&page={}"
    for n in range(1, 61):
        assert client.get(page.format(n)).status_code == 200
    kept = app.extensions["kept_answers"]
    assert 0 < kept.size <= 20_000 and 0 < len(kept.kept) < 60
    with statements() as ran:
        client.get(page.format(60))  # kept: the most recent
    assert len(ran) == 1
    with statements() as ran:
        client.get(page.format(1))  # pushed out: made again
    assert len(ran) > 1


def test_an_answer_from_what_was_kept_is_logged_and_counted(app, client, city, capsys):
    from tellcity.core import request_log

    app.config.update(LOG_FORMAT="json", TRUSTED_PROXIES=1)
    request_log._log_lines_to_stderr()  # as create_app does with LOG_FORMAT=json
    url = "/open311/v2/services.json"

    def counted() -> float:
        labels = {"endpoint": "open311.list_services", "method": "GET", "status": "200"}
        return REGISTRY.get_sample_value("tellcity_http_requests_total", labels) or 0

    client.get(url, headers={"X-Request-ID": "first-1"})
    before = counted()
    with statements() as ran:
        again = client.get(url, headers={"X-Request-ID": "again-2"})
    assert len(ran) == 1 and again.headers["X-Request-ID"] == "again-2"
    assert counted() == before + 1
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    [line] = [line for line in lines if line["request_id"] == "again-2"]
    assert line["endpoint"] == "open311.list_services" and line["status"] == 200
    assert line["rule"] == "/open311/v2/services.<any(json, xml):fmt>"


def test_a_check_that_fails_leaves_the_answer_to_the_app(app, client, city, caplog):
    url = "/open311/v2/requests.json"
    first = client.get(url)
    client.get(url)
    kept = app.extensions["kept_answers"]
    kept._close()  # the database went away
    kept._engine = sa.create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/x")
    with statements() as ran:
        again = client.get(url)
    assert again.status_code == 200 and again.data == first.data
    assert len(ran) > 1  # the app's own statements, on its own engine
    assert "the check open311.requests failed" in caplog.text


def test_a_question_that_names_its_city_is_kept_too(client, city, staff):
    report = submit(city, "graffiti", description="Un tag")
    db.session.commit()
    named = f"?jurisdiction_id={city.slug}"
    asked = {
        name: url + ("&" if "?" in url else "?") + named[1:] for name, url in urls(report).items()
    }
    for name, url in asked.items():
        first = client.get(url)
        assert first.status_code == 200, name
        with statements() as ran:
            assert client.get(url).data == first.data, name
        assert len(ran) == 1, name
    before = client.get(asked["one request"]).data
    transition(report, "resolved", Actor.of(staff["admin"]), text="Réparé.")
    db.session.commit()
    after = client.get(asked["one request"]).data
    assert after != before and b'"status":"closed"' in after
    # Another city's name is another question, kept on that city's versions.
    make_city(slug="vanves", name="Vanves")
    db.session.commit()
    assert client.get("/open311/v2/services.json?jurisdiction_id=vanves").data == b"[]"
    assert client.get(asked["services"]).data != b"[]"
    unknown = client.get("/open311/v2/services.json?jurisdiction_id=nowhere")
    assert unknown.status_code == 404
