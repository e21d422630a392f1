"""Browser tests: the app served on loopback from a fresh SQLite database with the demo city,
driven by Debian's Chromium through Playwright at a phone's size (390 by 844), its position granted
near the town hall. Screenshots go to screenshots/ at the repository root."""

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tellcity import create_app
from tellcity.demo.services import load_city_file
from tellcity.extensions import db
from tests.geo.ban_server import TOWN_HALL, FakeBAN, free_port, serve

CHROMIUM = os.environ.get("TELLCITY_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
PHONE = {"width": 390, "height": 844}

if not shutil.which(CHROMIUM):
    pytest.skip(f"browser tests skipped: no Chromium at {CHROMIUM}", allow_module_level=True)


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """(base URL, app) of a live server with the demo city and a local address server."""
    ban = FakeBAN(addresses=[TOWN_HALL])
    stop_ban = serve(ban)
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path_factory.mktemp("e2e")),
            "SECRET_KEY": "e2e",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "GEOCODER_OPTIONS": ban.options,
            # The tests sign in as each staff role, in several browsers, all from one address.
            "RATELIMIT_SIGNIN": "60 per minute",
            # Tiles cannot load here: the pages must stay usable without them.
            "MAP_TILE_URL": f"http://127.0.0.1:{free_port()}/{{z}}/{{x}}/{{y}}.png",
        }
    )
    with app.app_context():
        db.create_all()
        load_city_file()
        db.session.commit()
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}", app
    server.shutdown()
    stop_ban()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser, site):
    """A page in a fresh phone-sized, French-speaking context at the town hall."""
    base, _app = site
    context = browser.new_context(
        viewport=PHONE,
        locale="fr-FR",
        base_url=base,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    context.grant_permissions(["geolocation"], origin=base)
    context.set_geolocation({"latitude": TOWN_HALL.lat, "longitude": TOWN_HALL.lon})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
