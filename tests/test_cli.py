"""The commands a newcomer and an operator type."""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
import sqlalchemy as sa

from tellcity import create_app
from tellcity.accounts.models import ApiKey, User
from tellcity.audit.models import AuditEntry
from tellcity.extensions import db
from tellcity.reports.models import Report

PASSWORD_LINE = re.compile(r"Password \(shown this once\): (\S+)")


@pytest.fixture
def fresh_app(tmp_path):
    """An app on a SQLite file that does not exist yet, as on a newcomer's machine."""
    app = create_app({"INSTANCE_PATH": str(tmp_path), "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def run(app, *args, **kwargs):
    result = app.test_cli_runner().invoke(args=list(args), **kwargs)
    return result


def test_init_creates_the_database_at_the_latest_schema(fresh_app, tmp_path):
    result = run(fresh_app, "init")
    assert result.exit_code == 0, result.output
    assert "Database ready" in result.output
    assert (tmp_path / "tellcity.sqlite3").exists()
    tables = sa.inspect(db.engine).get_table_names()
    assert {"reports", "users", "alembic_version"} <= set(tables)
    assert run(fresh_app, "init").exit_code == 0  # running it again changes nothing


def test_demo_loads_the_city_once_and_prints_the_accounts_once(fresh_app):
    first = run(fresh_app, "demo", "--no-serve")
    assert first.exit_code == 0, first.output
    assert "Loaded the demo city Issy-les-Moulineaux" in first.output
    assert "admin@issy.example.org" in first.output
    assert "asks to set up two-factor sign-in" in first.output
    second = run(fresh_app, "demo", "--no-serve")
    assert second.exit_code == 0, second.output
    assert "already holds a city" in second.output
    assert "admin@issy.example.org" not in second.output


def test_demo_leaves_sqlite_statistics_for_the_query_planner(fresh_app):
    """Without ANALYZE SQLite plans blind (a whole city scanned for a map viewport)."""
    run(fresh_app, "demo", "--no-serve")
    analysed = db.session.execute(
        sa.text("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'reports'")
    ).all()
    indexes = {index for index, _ in analysed}
    assert "ix_reports_lat_lon" in indexes
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Report))
    assert total > 0
    partial = set(
        db.session.scalars(
            sa.text(
                "SELECT name FROM sqlite_master WHERE tbl_name = 'reports' AND sql LIKE '%WHERE%'"
            )
        )
    )
    assert "ix_reports_assignee_id" in partial  # indexed where set: fewer rows than the table
    assert all(int(stat.split()[0]) == total for index, stat in analysed if index not in partial)
    assert all(int(stat.split()[0]) <= total for index, stat in analysed if index in partial)


def test_create_user_prints_a_password_that_signs_in(fresh_app):
    run(fresh_app, "demo", "--no-serve")
    result = run(
        fresh_app,
        "create-user",
        "Nouvel.Agent@Issy.example.org",
        "--role",
        "agent",
        "--department",
        "voirie",
        "--name",
        "Nouvel Agent",
    )
    assert result.exit_code == 0, result.output
    password = PASSWORD_LINE.search(result.output).group(1)
    user = db.session.scalar(sa.select(User).where(User.email == "nouvel.agent@issy.example.org"))
    assert user.role == "agent" and user.department.slug == "voirie"
    assert user.check_password(password)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["agent@issy.example.org", "--role", "agent"], "belong to a department"),
        (["admin@issy.example.org", "--role", "admin"], "already exists"),
        (["x@issy.example.org", "--role", "agent", "--department", "nope"], "no department"),
        (["x@issy.example.org", "--city", "atlantis"], "no city"),
        (["not-an-email"], "not an email address"),
    ],
)
def test_create_user_refuses_with_a_clear_message(fresh_app, args, message):
    run(fresh_app, "demo", "--no-serve")
    result = run(fresh_app, "create-user", *args)
    assert result.exit_code != 0
    assert message in result.output


def test_create_user_with_a_typed_password(fresh_app):
    run(fresh_app, "init")
    result = run(
        fresh_app,
        "create-user",
        "maire@example.org",
        "--role",
        "mayor",
        "--prompt-password",
        input="correct horse battery\ncorrect horse battery\n",
    )
    assert result.exit_code == 0, result.output
    assert "shown this once" not in result.output
    user = db.session.scalar(sa.select(User).where(User.email == "maire@example.org"))
    assert user.check_password("correct horse battery")


def test_set_password_replaces_the_old_one(fresh_app):
    first = run(fresh_app, "demo", "--no-serve").output
    old = re.search(r"agent\.voirie@issy\.example\.org\s+(\S+)", first).group(1)
    result = run(fresh_app, "set-password", "agent.voirie@issy.example.org")
    new = re.search(r"\(shown this once\): (\S+)", result.output).group(1)
    user = db.session.scalar(sa.select(User).where(User.email == "agent.voirie@issy.example.org"))
    db.session.refresh(user)
    assert user.check_password(new) and not user.check_password(old)
    assert run(fresh_app, "set-password", "nobody@example.org").exit_code != 0


def audit_log(entity: str) -> list[tuple[str, str, int | None]]:
    """(actor, action, row id) of the audit log's entries on `entity`, oldest first."""
    rows = db.session.execute(
        sa.select(AuditEntry.actor_label, AuditEntry.action, AuditEntry.entity_id)
        .where(AuditEntry.entity == entity)
        .order_by(AuditEntry.id)
    )
    return [tuple(row) for row in rows]


def test_create_user_and_set_password_are_in_the_audit_log_as_the_cli(fresh_app):
    run(fresh_app, "init")
    assert run(fresh_app, "create-user", "maire@example.org", "--role", "mayor").exit_code == 0
    assert run(fresh_app, "set-password", "maire@example.org").exit_code == 0
    user = db.session.scalar(sa.select(User).where(User.email == "maire@example.org"))
    assert audit_log("users") == [("cli", "create", user.id), ("cli", "update", user.id)]
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "create"))
    assert entry.actor_id is None and entry.after["role"] == "mayor"
    assert "password_hash" not in entry.after


def test_create_and_revoke_api_key_are_in_the_audit_log_as_the_cli(fresh_app):
    run(fresh_app, "init")
    assert run(fresh_app, "create-api-key", "Tableau de bord", "--scope", "stats").exit_code == 0
    key = db.session.scalar(sa.select(ApiKey))
    assert audit_log("api_keys") == [("cli", "create", key.id)]
    assert run(fresh_app, "revoke-api-key", key.prefix).exit_code == 0
    assert audit_log("api_keys") == [("cli", "create", key.id), ("cli", "update", key.id)]
    again = run(fresh_app, "revoke-api-key", key.prefix)
    assert again.exit_code != 0 and "already revoked" in again.output
    assert len(audit_log("api_keys")) == 2


def test_a_refused_command_writes_nothing_to_the_audit_log(fresh_app):
    run(fresh_app, "init")
    assert run(fresh_app, "create-user", "agent@example.org", "--role", "agent").exit_code != 0
    assert run(fresh_app, "create-api-key", "  ").exit_code != 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read().decode()


def test_the_demo_command_serves_the_city(tmp_path):
    """What the README's first command does: `tellcity demo` on an empty instance folder."""
    port = free_port()
    env = {**os.environ, "TELLCITY_INSTANCE_PATH": str(tmp_path)}
    tellcity = os.path.join(os.path.dirname(sys.executable), "tellcity")
    server = subprocess.Popen(
        [tellcity, "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for _ in range(100):
            try:
                status, body = get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(server.stdout.read())
                time.sleep(0.1)
        else:
            pytest.fail("the demo server did not answer within 10 s")
        assert (status, body.strip()) == (200, '{"database":"ok","status":"ok"}')
        status, page = get(f"http://127.0.0.1:{port}/")
        assert status == 200 and "Issy-les-Moulineaux" in page
        filed = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/reports",
            data=json.dumps(DEMO_REPORT).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(filed, timeout=10) as response:
            tracking_url = json.load(response)["tracking_url"]
        assert get(tracking_url)[0] == 200  # the link the API gives works as it is
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0]
    assert "cabinet@issy.example.org" in output
    assert f"http://127.0.0.1:{port}/" in output


DEMO_REPORT = {"category": "pothole", "lat": 48.8245, "lon": 2.2735, "description": "Un trou"}


def test_the_demo_links_lead_to_the_address_it_serves_on(fresh_app):
    result = run(fresh_app, "demo", "--no-serve", "--port", "8123")
    assert result.exit_code == 0, result.output
    filed = fresh_app.test_client().post("/api/v1/reports", json=DEMO_REPORT)
    assert filed.status_code == 201
    assert filed.json["tracking_url"].startswith("http://127.0.0.1:8123/track/ISS-")


@pytest.mark.parametrize(
    ("host", "base_url"),
    [
        ("0.0.0.0", "http://127.0.0.1:8124"),
        ("::", "http://localhost:8124"),
        ("192.168.1.20", "http://192.168.1.20:8124"),
        ("::1", "http://[::1]:8124"),
    ],
)
def test_the_demo_links_name_an_address_a_browser_can_open(fresh_app, host, base_url):
    assert run(fresh_app, "demo", "--no-serve", "--host", host, "--port", "8124").exit_code == 0
    assert fresh_app.config["BASE_URL"] == base_url


def test_a_configured_base_url_is_kept_by_the_demo(tmp_path):
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "BASE_URL": "https://signaler.example",
        }
    )
    with app.app_context():
        assert run(app, "demo", "--no-serve", "--port", "8125").exit_code == 0
        filed = app.test_client().post("/api/v1/reports", json=DEMO_REPORT)
        assert filed.json["tracking_url"].startswith("https://signaler.example/track/")
        db.session.remove()
        db.engine.dispose()
