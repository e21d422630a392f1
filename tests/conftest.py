"""Fixtures: an app on a fresh SQLite database, and the same on PostgreSQL when
TELLCITY_TEST_DATABASE_URL names a server (the tests that use `app` run on both)."""

import contextvars
import os
import uuid

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url

from tellcity import create_app
from tellcity.core import writer_queue
from tellcity.extensions import db

PG_URL = os.environ.get("TELLCITY_TEST_DATABASE_URL")
SKIP_PG = pytest.mark.skipif(
    not PG_URL, reason="PostgreSQL run skipped: TELLCITY_TEST_DATABASE_URL is not set"
)
BACKENDS = ["sqlite", pytest.param("postgresql", marks=SKIP_PG)]


def pytest_report_header(config):
    where = PG_URL or "not set, so only SQLite runs"
    return f"TellCity databases: SQLite, and PostgreSQL at TELLCITY_TEST_DATABASE_URL ({where})"


def pytest_terminal_summary(terminalreporter):
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if "TELLCITY_TEST_DATABASE_URL" in str(report.longrepr)
    ]
    if skipped:
        terminalreporter.write_line(
            f"PostgreSQL run skipped ({len(skipped)} tests): TELLCITY_TEST_DATABASE_URL is not set",
            yellow=True,
        )


@pytest.fixture(autouse=True)
def _no_outside_config(monkeypatch):
    """The developer's own TELLCITY_* settings must not leak into a test."""
    for name in list(os.environ):
        if name.startswith("TELLCITY_") and not name.startswith("TELLCITY_TEST_"):
            monkeypatch.delenv(name)


class ScratchDatabases:
    """Creates and drops throwaway PostgreSQL databases on the test server."""

    def __init__(self, url: str):
        self.server = make_url(url).set(drivername="postgresql+psycopg")
        self.names: list[str] = []

    def create(self) -> str:
        name = f"tellcity_test_{uuid.uuid4().hex[:12]}"
        self._execute(f'CREATE DATABASE "{name}"')
        self.names.append(name)
        return self.server.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        for name in self.names:
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _execute(self, sql: str) -> None:
        engine = sa.create_engine(self.server, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(sa.text(sql))
        engine.dispose()


@pytest.fixture(scope="session")
def scratch_databases():
    if not PG_URL:
        pytest.skip("PostgreSQL run skipped: TELLCITY_TEST_DATABASE_URL is not set")
    databases = ScratchDatabases(PG_URL)
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request, tmp_path_factory):
    """The backend name and, for PostgreSQL, the URL of a session-wide database holding the
    models' schema (emptied after each test)."""
    if request.param == "sqlite":
        yield "sqlite", None
        return
    url = request.getfixturevalue("scratch_databases").create()
    app = create_app(_test_config(tmp_path_factory.mktemp("pg-schema"), url))
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    yield "postgresql", url


def _test_config(tmp_path, url: str) -> dict:
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "tests-only-secret",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast; production keeps scrypt
        # Nothing outside this machine: the geocoder is "down" unless a test starts one.
        "GEOCODER_OPTIONS": {"domain": "127.0.0.1:9", "scheme": "http"},
        "DATABASE_URL": url,
    }


@pytest.fixture
def app(backend, tmp_path):
    """An app on an empty database with the models' schema, inside an app context. Each app
    keeps its own cities' configuration (tellcity.core.caches): nothing of another test's."""
    name, url = backend
    url = url or f"sqlite:///{tmp_path / 'test.sqlite3'}"
    app = create_app(_test_config(tmp_path, url))
    with app.app_context():
        if name == "sqlite":
            db.create_all()
        yield app
        db.session.rollback()
        db.session.remove()
        if name == "postgresql":
            _empty_tables()
        db.engine.dispose()
    writer_queue.close_lock_files()  # each test's database is a new file


def _empty_tables() -> None:
    tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


class RequestClient(FlaskClient):
    """A test client whose requests each run in an app context of their own, as in production,
    not in the test's: nothing cached on `g` (the signed-in user, the language) or in the
    database session leaks from one request to the next. Commit what a request must see."""

    def open(self, *args, **kwargs):
        context = contextvars.Context()
        response = context.run(super().open, *args, **kwargs)
        if response.is_streamed:  # read later, in that context as a server would
            response.response = _InContext(context, response.response)
        return response


class _InContext:
    """A streamed body read in the context of the request that made it: a generator under
    Flask's stream_with_context (Flask-Compress compresses streamed answers so) pushes the
    request's context when it starts and pops it when it ends, which must happen in the same
    context."""

    def __init__(self, context: contextvars.Context, body):
        self.context, self.body = context, iter(body)
        self.closing = body

    def __iter__(self):
        return self

    def __next__(self):
        return self.context.run(next, self.body)

    def close(self) -> None:
        if hasattr(self.closing, "close"):
            self.context.run(self.closing.close)


@pytest.fixture
def client(app):
    app.test_client_class = RequestClient
    return app.test_client()


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


@pytest.fixture
def demo_city(app):
    """The demo city, loaded and committed; `.accounts` holds the staff and their passwords."""
    from tellcity.demo.services import load_city_file

    city, accounts = load_city_file()
    db.session.commit()
    city.accounts = accounts
    return city


@pytest.fixture
def staff(demo_city):
    """The demo city's accounts by email prefix: admin, cabinet (the mayor's office),
    chef.voirie, agent.voirie, chef.proprete, agent.proprete, agent.accueil, resident. The
    administrator has set up two-factor sign-in (which administrators must), with the secret
    tests.accounts.helpers.SECRET."""
    from tellcity.accounts.models import User
    from tests.accounts.helpers import enrol

    users = db.session.scalars(sa.select(User).where(User.city_id == demo_city.id)).all()
    by_name = {user.email.split("@")[0]: user for user in users}
    enrol(by_name["admin"])
    db.session.commit()
    return by_name


@pytest.fixture
def smtp(app):
    """A running SMTP server (aiosmtpd, on loopback) the app sends its mail to."""
    from tests.notify.helpers import SmtpServer, free_port

    server = SmtpServer(free_port()).start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port)
    yield server
    server.stop()


@pytest.fixture
def ban(app):
    """A local server answering like the national address base; the app's geocoder asks it."""
    from tests.geo.ban_server import FakeBAN, serve

    server = FakeBAN()
    stop = serve(server)
    app.config["GEOCODER_OPTIONS"] = server.options
    yield server
    stop()


@pytest.fixture
def ban_down(app):
    """The geocoder's address, with nothing listening there."""
    from tests.geo.ban_server import free_port

    app.config["GEOCODER_OPTIONS"] = {"domain": f"127.0.0.1:{free_port()}", "scheme": "http"}


@pytest.fixture
def login_as(client, staff):
    """Sign a demo account in (by email prefix: "agent.voirie", "cabinet", "admin"...) and
    return the user; None signs out."""

    def sign_in(name: str | None):
        with client.session_transaction() as session:
            session.clear()
            if name is not None:
                session["_user_id"] = str(staff[name].id)
                session["_fresh"] = True
        return staff[name] if name else None

    return sign_in


@pytest.fixture(scope="session")
def moto_server():
    """moto's standalone S3 server, one process on a free loopback port for the whole session
    (tests/photos/s3_server.py): `.endpoint_url`, `.env` (the AWS_* variables pointing at it),
    `.new_bucket()`, `.client()`. An app server started by a test uses it with
    `env={**os.environ, **moto_server.env, "TELLCITY_PHOTO_STORAGE": f"s3://{bucket}/photos"}`."""
    from tests.photos.s3_server import MotoServer

    server = MotoServer().start()
    yield server
    server.stop()


@pytest.fixture
def s3_store(app, moto_server, monkeypatch):
    """The app keeps its photos in a new bucket of `moto_server`, configured as a city would
    (PHOTO_STORAGE, and boto3's standard AWS_* variables); returns the bucket to look into."""
    from tests.photos.s3_server import UNSET, Bucket

    for name in UNSET:
        monkeypatch.delenv(name, raising=False)
    for name, value in moto_server.env.items():
        monkeypatch.setenv(name, value)
    bucket = Bucket(moto_server, moto_server.new_bucket(), "photos")
    app.config["PHOTO_STORAGE"] = bucket.url
    return bucket
