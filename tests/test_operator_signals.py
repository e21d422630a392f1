"""What the operator sees: Prometheus metrics for the token holder, the readiness check, and
each request's id in its answer, its JSON log line and the messages it queued."""

import json
import socket
from datetime import timedelta

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from tellcity import create_app
from tellcity.core.db import utcnow
from tellcity.extensions import db
from tellcity.notify.models import OutboxMessage
from tests.api.test_reports_api import REPORT

TOKEN = "scrape-token-for-tests"


def scrape(client) -> dict[tuple[str, tuple], float]:
    """The metrics as {(sample name, sorted labels): value}."""
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_is_running() -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", 6379)) == 0


def ask_readiness(app, tmp_path, rate_limit_storage: str):
    """GET /readyz of another app on the same database, its rate limits counted in
    `rate_limit_storage`."""
    other = create_app(
        {
            "INSTANCE_PATH": str(tmp_path / "other"),
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "RATELIMIT_STORAGE_URI": rate_limit_storage,
        }
    )
    response = other.test_client().get("/readyz")
    with other.app_context():
        db.engine.dispose()
    return response


def test_metrics_are_not_public(app, client):
    assert client.get("/metrics").status_code == 404  # no token configured: no endpoint
    app.config["METRICS_TOKEN"] = TOKEN
    assert client.get("/metrics").status_code == 404
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 404


def test_metrics_count_requests_by_route_and_submissions(app, client, demo_city):
    app.config["METRICS_TOKEN"] = TOKEN
    before = scrape(client)
    client.get("/healthz")
    client.get("/track/ISS-2026-999999/nothing-here")
    assert client.post("/api/v1/reports", json=REPORT).status_code == 201
    after = scrape(client)

    def grew(name: str, **labels) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert grew("tellcity_http_requests_total", endpoint="core.healthz", method="GET", status="200")
    assert grew("tellcity_submissions_total") == 1
    assert grew(
        "tellcity_http_request_duration_seconds_count", endpoint="core.healthz", status="200"
    )
    # By route, never by path: no series names a reference or a token.
    assert not any("ISS-2026-999999" in str(labels) for _name, labels in after)


def test_metrics_show_the_outbox_backlog_and_how_late_it_is(app, client):
    app.config["METRICS_TOKEN"] = TOKEN
    late = utcnow() - timedelta(minutes=10)
    for status, due in (
        ("pending", late),
        ("pending", utcnow() + timedelta(hours=1)),
        ("dead", late),
    ):
        db.session.add(
            OutboxMessage(
                channel="email", recipient="x@example.org", status=status, next_attempt_at=due
            )
        )
    db.session.commit()
    samples = scrape(client)
    assert samples["tellcity_outbox_messages", (("status", "pending"),)] == 2
    assert samples["tellcity_outbox_messages", (("status", "dead"),)] == 1
    assert samples["tellcity_outbox_messages", (("status", "sending"),)] == 0
    assert 590 < samples["tellcity_outbox_oldest_pending_seconds", ()] < 900


def test_readiness_names_what_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok"}}
    assert response.headers["Cache-Control"] == "no-store"


def test_readiness_says_503_when_redis_is_down_and_the_log_says_which(app, tmp_path, caplog):
    port = closed_port()
    response = ask_readiness(app, tmp_path, f"redis://127.0.0.1:{port}")
    assert response.status_code == 503
    assert response.json == {
        "status": "error",
        "checks": {"database": "ok", "redis": "unavailable"},
    }
    assert "redis is unavailable" in caplog.text
    assert str(port) not in response.get_data(as_text=True)


@pytest.mark.skipif(not redis_is_running(), reason="needs Redis on 127.0.0.1:6379")
def test_readiness_asks_redis_when_rate_limits_count_there(app, tmp_path):
    response = ask_readiness(app, tmp_path, "redis://127.0.0.1:6379")
    assert response.json == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


def test_each_answer_carries_a_request_id_kept_from_the_proxy_when_sane(app, client):
    made = client.get("/healthz").headers["X-Request-ID"]
    assert len(made) == 32 and made != client.get("/healthz").headers["X-Request-ID"]
    no_proxy = client.get("/healthz", headers={"X-Request-ID": "lb-1234.abc:9"})
    assert no_proxy.headers["X-Request-ID"] != "lb-1234.abc:9"  # a client's own word
    app.config["TRUSTED_PROXIES"] = 1
    kept = client.get("/healthz", headers={"X-Request-ID": "lb-1234.abc:9"})
    assert kept.headers["X-Request-ID"] == "lb-1234.abc:9"
    for forged in ("x" * 65, 'a" "status": 200', "é"):
        answer = client.get("/healthz", headers={"X-Request-ID": forged})
        assert answer.headers["X-Request-ID"] != forged


def test_json_log_lines_follow_a_submission_to_its_emails_and_keep_contacts_out(
    app, client, demo_city, capsys
):
    app.config.update(LOG_FORMAT="json", TRUSTED_PROXIES=1)
    from tellcity.core import request_log

    request_log._log_lines_to_stderr()  # as create_app does with LOG_FORMAT=json
    response = client.post(
        "/api/v1/reports?email=zoe.secret@example.org",
        json=REPORT,
        headers={"X-Request-ID": "submission-42"},
    )
    assert response.status_code == 201
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    [line] = [line for line in lines if line["request_id"] == "submission-42"]
    assert line["method"] == "POST" and line["status"] == 201
    assert line["endpoint"] and line["rule"] == "/api/v1/reports"
    assert line["duration_ms"] > 0
    logged = json.dumps(lines)
    for private in ("zoe.secret", "Secretname", "99 88 77"):
        assert private not in logged
    queued = db.session.scalars(sa.select(OutboxMessage.request_id)).all()
    assert queued and set(queued) == {"submission-42"}


def test_the_log_format_is_checked(tmp_path):
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        create_app({"INSTANCE_PATH": str(tmp_path), "LOG_FORMAT": "yaml"})


def test_readiness_asks_the_object_store_when_photos_are_kept_there(app, client, s3_store):
    response = client.get("/readyz")
    assert response.json == {"status": "ok", "checks": {"database": "ok", "object_store": "ok"}}
    app.config["PHOTO_STORAGE"] = "s3://no-such-bucket-here/photos"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"] == {"database": "ok", "object_store": "unavailable"}
    assert "no-such-bucket" not in response.get_data(as_text=True)


def test_metrics_are_served_while_the_database_is_down(tmp_path, caplog):
    port = closed_port()
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/nowhere",
            "METRICS_TOKEN": TOKEN,
        }
    )
    samples = scrape(app.test_client())
    assert any(name == "tellcity_http_requests_total" for name, _labels in samples)
    assert not any(name == "tellcity_outbox_messages" for name, _labels in samples)
    assert "the outbox could not be read" in caplog.text
