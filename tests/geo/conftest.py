import pytest

from tests.geo.ban_server import FakeBAN, free_port, serve


@pytest.fixture
def ban(app):
    """A local BAN server the app's geocoder asks."""
    server = FakeBAN()
    stop = serve(server)
    app.config["GEOCODER_OPTIONS"] = server.options
    yield server
    stop()


@pytest.fixture
def ban_down(app):
    """The geocoder's address, with nothing listening there."""
    app.config["GEOCODER_OPTIONS"] = {"domain": f"127.0.0.1:{free_port()}", "scheme": "http"}
