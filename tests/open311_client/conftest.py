"""Fixtures for TellCity as an Open311 client: `remote`, a second TellCity instance serving
Open311 as a department's own system (its own database: a SQLite file, or a database of its
own on the PostgreSQL server when the suite runs there), and `stand_in`, an HTTP server
playing a remote that misbehaves. See tests/open311_client/remotes.py."""

import pytest

from tests.open311_client.remotes import StandInRemote, close_remote, start_remote


@pytest.fixture
def remote(app, backend, request, tmp_path):
    """The remote department's system, a TellCity of its own: `.base_url` (its Open311
    endpoint), `.api_key`, `.jurisdiction`; its staff act with `.set_status(id, status, text)`
    and `.reply(id, text)`, and `.report(id)` reads their report."""
    name, _url = backend
    if name == "postgresql":
        url = request.getfixturevalue("scratch_databases").create()
    else:
        url = f"sqlite:///{tmp_path / 'remote.sqlite3'}"
    instance = start_remote(url, tmp_path / "remote")
    yield instance
    close_remote(instance)


@pytest.fixture
def stand_in():
    """An outside Open311 system on loopback, told what to answer (StandInRemote)."""
    server = StandInRemote().start()
    yield server
    server.stop()
