"""The database unreachable: a clear 503 and nothing half-written; back by itself after."""

import pytest
import sqlalchemy as sa

from tellcity import create_app
from tellcity.extensions import db
from tests.conftest import SKIP_PG


@pytest.fixture
def unreachable(tmp_path):
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": "x",
            "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nowhere",
        }
    )
    return app.test_client()


def test_an_api_write_gets_a_503_json_to_retry(unreachable):
    response = unreachable.post("/api/v1/reports", json={"category": "pothole"})
    assert response.status_code == 503
    assert response.json["error"]["code"] == "unavailable"
    assert "Retry-After" in response.headers


def test_a_page_gets_a_503_page(unreachable):
    response = unreachable.get("/", headers={"Accept": "text/html"})
    assert response.status_code == 503
    assert "Rien n&#39;a été enregistré" in response.get_data(as_text=True)


@SKIP_PG
def test_the_app_reconnects_after_the_database_drops_its_connections(tmp_path, scratch_databases):
    url = scratch_databases.create()
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x", "DATABASE_URL": url})
    with app.app_context():
        db.create_all()
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    name = sa.engine.make_url(url).database
    scratch_databases._execute(
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    )
    assert client.get("/healthz").status_code == 200
    with app.app_context():
        db.engine.dispose()
