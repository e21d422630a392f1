"""Configuration comes from defaults, instance/config.py, TELLCITY_* variables, then the
mapping given to create_app; the secret key is never a fixed default."""

import os
import sqlite3
import stat

from tellcity import create_app
from tellcity.extensions import db


def test_a_secret_key_is_generated_once_into_the_instance_folder(tmp_path):
    first = create_app({"INSTANCE_PATH": str(tmp_path)})
    second = create_app({"INSTANCE_PATH": str(tmp_path)})
    secret_file = tmp_path / "secret_key"
    assert first.secret_key == second.secret_key == secret_file.read_text().strip()
    assert len(first.secret_key) == 64
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600


def test_each_instance_gets_its_own_secret(tmp_path):
    one = create_app({"INSTANCE_PATH": str(tmp_path / "one")})
    other = create_app({"INSTANCE_PATH": str(tmp_path / "other")})
    assert one.secret_key != other.secret_key


def test_secret_from_the_environment_is_used_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("TELLCITY_SECRET_KEY", "from-the-environment")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.secret_key == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


def test_instance_config_then_environment_then_create_app_mapping(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text(
        'DEFAULT_CITY = "from-instance"\nMAX_CONTENT_LENGTH = 1000\nSECRET_KEY = "instance"\n'
    )
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["DEFAULT_CITY"] == "from-instance"
    assert app.config["MAX_CONTENT_LENGTH"] == 1000

    monkeypatch.setenv("TELLCITY_DEFAULT_CITY", "from-env")
    monkeypatch.setenv("TELLCITY_MAX_CONTENT_LENGTH", "2000")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["DEFAULT_CITY"] == "from-env"
    assert app.config["MAX_CONTENT_LENGTH"] == 2000
    assert app.secret_key == "instance"

    app = create_app({"INSTANCE_PATH": str(tmp_path), "DEFAULT_CITY": "from-mapping"})
    assert app.config["DEFAULT_CITY"] == "from-mapping"


def test_instance_path_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TELLCITY_INSTANCE_PATH", str(tmp_path / "elsewhere"))
    app = create_app()
    assert app.instance_path == str(tmp_path / "elsewhere")
    assert (tmp_path / "elsewhere" / "uploads").is_dir()


def test_default_database_is_a_sqlite_file_in_the_instance_folder(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    expected = "sqlite:///" + str(tmp_path / "tellcity.sqlite3")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == expected


def test_postgresql_urls_use_psycopg_3(tmp_path, monkeypatch):
    monkeypatch.setenv("TELLCITY_DATABASE_URL", "postgresql://postgres@db.internal:5432/city")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    assert uri == "postgresql+psycopg://postgres@db.internal:5432/city"


def test_sqlite_runs_in_wal_mode_with_foreign_keys_on(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    with app.app_context():
        with db.engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            assert raw.execute("PRAGMA foreign_keys").fetchone()[0] == 1
            assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        db.engine.dispose()
    # WAL is a property of the file: another program opening it sees it too.
    other = sqlite3.connect(tmp_path / "tellcity.sqlite3")
    try:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        other.close()
