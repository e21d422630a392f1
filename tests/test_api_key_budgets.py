"""Programs with an API key have a budget of their own: an app sending for a whole city is not
counted with the public, per address, but per key (the site's budget for keys, or the key's own
set by an administrator), in the rate limiter's store, shared by every process with Redis."""

import socket
import uuid

import pytest
import redis
import sqlalchemy as sa

from tellcity import create_app
from tellcity.accounts.api_keys import create_api_key
from tellcity.accounts.models import ApiKey
from tellcity.admin.access import CLI
from tellcity.extensions import db
from tellcity.reports.models import ReportEvent
from tests.admin.helpers import audit, fresh
from tests.admin.helpers import post as admin_post
from tests.factories import make_city
from tests.open311.helpers import post as open311_post

REPORT = {"category": "pothole", "description": "Un trou", "lat": 48.8245, "lon": 2.2735}


@pytest.fixture
def budgets(app, demo_city):
    """The public may send 2 reports a minute per address, a key 4 unless it has its own."""
    app.config["RATELIMIT_SUBMIT"] = "2 per minute"
    app.config["RATELIMIT_API_KEY"] = "4 per minute"
    return demo_city


def new_key(city, name: str, rate_limit: str | None = None) -> tuple[ApiKey, str]:
    row, key = create_api_key(name, city=city, rate_limit=rate_limit, actor=CLI)
    db.session.commit()
    return row, key


def api_post(client, key: str | None = None):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.post("/api/v1/reports", json=REPORT, headers=headers)


def test_an_app_with_a_key_is_not_counted_with_the_public(client, budgets):
    _row, key = new_key(budgets, "Appli Issy")

    open311 = [open311_post(client, key).status_code for _ in range(5)]
    assert open311 == [200, 200, 200, 200, 429]  # the key's 4, from one address
    refused = open311_post(client, key)
    assert refused.status_code == 429
    assert refused.json[0]["code"] == 429  # in Open311's shape
    # The address's own budget is untouched by the key's reports.
    assert [api_post(client).status_code for _ in range(3)] == [201, 201, 429]


def test_each_key_has_its_budget_and_may_have_its_own(client, budgets):
    _small, small = new_key(budgets, "Petite appli", rate_limit="1 per minute")
    _big, big = new_key(budgets, "Grande appli")

    assert [open311_post(client, small).status_code for _ in range(2)] == [200, 429]
    assert [open311_post(client, big).status_code for _ in range(5)] == [200] * 4 + [429]


def test_the_api_names_the_app_and_refuses_a_key_that_is_not_valid(client, budgets):
    row, key = new_key(budgets, "Appli Issy")
    created = api_post(client, key)
    assert created.status_code == 201
    event = db.session.scalar(sa.select(ReportEvent).order_by(ReportEvent.id.desc()))
    assert event.actor_label == "API key Appli Issy"

    wrong = client.post(
        "/api/v1/reports", json=REPORT, headers={"X-Api-Key": f"{row.prefix}.not-the-secret"}
    )
    assert wrong.status_code == 401
    assert wrong.json["error"]["code"] == "invalid_api_key"

    _elsewhere, other_city_key = new_key(make_city(), "Appli d'une autre ville")
    refused = api_post(client, other_city_key)
    assert refused.status_code == 403
    assert api_post(client).status_code == 201  # without a key: the public's way


def test_an_administrator_sets_a_keys_budget_at_once_and_audited(client, login_as, budgets):
    row, key = new_key(budgets, "Appli Issy")
    login_as("admin")
    listing = client.get("/staff/admin/api-keys").get_data(as_text=True)
    assert "4 per minute" in listing  # the site's budget, shown for the key

    url = f"/staff/admin/api-keys/{row.id}/budget"
    refused = admin_post(client, url, {"rate_limit": "beaucoup"})
    assert refused.status_code == 422
    assert "300 per minute" in refused.get_data(as_text=True)  # says how to write one
    assert fresh(ApiKey, row.id).rate_limit is None

    saved = admin_post(client, url, {"rate_limit": " 1 per minute ; 100 per day "})
    assert saved.status_code == 302
    assert fresh(ApiKey, row.id).rate_limit == "1 per minute ; 100 per day"
    (entry,) = audit("api_keys", row.id, "update")
    assert (entry.before["rate_limit"], entry.after["rate_limit"]) == (
        None,
        "1 per minute ; 100 per day",
    )

    login_as(None)
    assert [open311_post(client, key).status_code for _ in range(2)] == [200, 429]


def test_the_cli_gives_a_key_its_budget(cli, budgets):
    result = cli.invoke(
        args=["create-api-key", "Appli", "--city", budgets.slug, "--rate-limit", "5 per hour"]
    )
    assert result.exit_code == 0, result.output
    row = db.session.scalar(sa.select(ApiKey).where(ApiKey.name == "Appli"))
    assert row.rate_limit == "5 per hour"
    wrong = cli.invoke(args=["create-api-key", "Autre", "--rate-limit", "lots"])
    assert wrong.exit_code != 0 and "300 per minute" in wrong.output


def redis_is_running() -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", 6379)) == 0


@pytest.mark.skipif(not redis_is_running(), reason="needs Redis on 127.0.0.1:6379")
def test_a_keys_budget_is_counted_in_the_shared_store(app, budgets, tmp_path):
    prefix = f"tellcity-test-{uuid.uuid4().hex}"
    row, key = new_key(budgets, "Appli Issy")
    key_id = row.id
    shared = create_app(
        {
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": app.config["SECRET_KEY"],
            "INSTANCE_PATH": str(tmp_path / "shared"),
            "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
            "RATELIMIT_KEY_PREFIX": prefix,
            "RATELIMIT_API_KEY": "2 per minute",
        }
    )
    store = redis.Redis(host="127.0.0.1", port=6379)
    # The key's counters, whatever prefix the limiter took: in one process the extension keeps
    # the first app's, where each server of a city has one app (and its own process).
    counters = f"*/api-key:{key_id}/open311.create_request/*"
    forget(store, counters)  # an earlier run's
    try:
        client = shared.test_client()
        assert [open311_post(client, key).status_code for _ in range(3)] == [200, 200, 429]
        found = [name.decode() for name in store.scan_iter(counters, count=10_000)]
        assert found, "the key's budget is not counted in Redis"
    finally:
        forget(store, counters)
        with shared.app_context():
            db.engine.dispose()


def forget(store: redis.Redis, pattern: str) -> None:
    for name in store.scan_iter(pattern, count=10_000):
        store.delete(name)
