"""A resident on a phone with a slow, metered connection: the first visit to the home page and to
the report form costs at most 100 KB before map tiles, static files are cached for good under
their content-hashed address, no resident page scrolls sideways on a small phone, and a map
whose tiles cannot load says so instead of zooming into a blank square."""

import re
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, screenshot
from tests.e2e.resident_pages import resident_pages

BUDGET = 100 * 1024
WIDTHS = (320, 360, 390, 414)

#: What each resource of the page cost on the wire (headers and compressed body), tiles left
#: out: the Performance API's transferSize, the navigation's first.
TRANSFERRED = """tiles => [
  ...performance.getEntriesByType("navigation"),
  ...performance.getEntriesByType("resource"),
].filter(entry => !entry.name.startsWith(tiles)).map(entry => [entry.name, entry.transferSize])"""

#: Where the site installs a service worker, the first visit also pays for what it keeps for
#: offline use: wait until it is installed (ten seconds at most).
SERVICE_WORKER_INSTALLED = """async () => {
  if (!("serviceWorker" in navigator)) return false;
  if (!(await navigator.serviceWorker.getRegistration())) return false;
  const later = new Promise(resolve => setTimeout(() => resolve(false), 10000));
  return Promise.race([navigator.serviceWorker.ready.then(() => true), later]);
}"""


@pytest.fixture
def fresh_phone(browser, site):
    """A page in a new context, so nothing is cached yet: a first visit."""
    base, _app = site
    context = browser.new_context(
        viewport=PHONE, locale="fr-FR", base_url=base, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def tile_origin(app) -> str:
    match = re.match(r"[a-z]+://[^/]+", app.config["MAP_TILE_URL"])
    return match.group(0)


def downloaded(request) -> int:
    """Bytes a finished request brought over the network: 0 when the HTTP cache answered it
    (Chromium then reports a body size of 0 or less)."""
    sizes = request.sizes()
    body = sizes["responseBodySize"]
    return body + sizes["responseHeadersSize"] if body > 0 else 0


@pytest.mark.parametrize("path", ["/", "/report"])
def test_the_first_visit_costs_at_most_100_kb_before_tiles(fresh_phone, site, path):
    _base, app = site
    tiles = tile_origin(app)
    worker = []  # the service worker's own downloads, which the page's timings do not show
    fresh_phone.context.on(
        "requestfinished",
        lambda request: (
            request.service_worker and not request.url.startswith(tiles) and worker.append(request)
        ),
    )
    fresh_phone.goto(path, wait_until="networkidle")
    installed = fresh_phone.evaluate(SERVICE_WORKER_INSTALLED)
    page_costs = fresh_phone.evaluate(TRANSFERRED, tiles)
    worker_costs = [(request.url, downloaded(request)) for request in worker]
    total = sum(size for _name, size in page_costs + worker_costs)
    detail = "; ".join(
        f"{who}: " + ", ".join(f"{name.split('/', 3)[-1] or '/'} {size}" for name, size in costs)
        for who, costs in (("page", page_costs), ("service worker", worker_costs))
        if costs
    )
    own = sum(size for _name, size in page_costs)
    print(f"\nfirst load of {path}: {total} bytes ({total / 1024:.1f} KB), the page {own}")
    print(f"({detail})")
    assert page_costs[0][1] > 0, "the page came from a cache: not a first visit"
    assert installed == bool(worker_costs) or not worker_costs
    assert total <= BUDGET, f"{path} costs {total / 1024:.1f} KB (budget 100 KB): {detail}"


def test_the_map_code_loads_only_on_pages_that_show_a_map(fresh_phone, site):
    """Leaflet is most of a page's weight: the home page, the lists and a report with a place
    show a map and load it; an idea without a place, the statistics, sign-in do not."""
    _base, app = site
    wrong = []
    for name, path in resident_pages(app).items():
        fresh_phone.goto(path, wait_until="domcontentloaded")
        loaded = fresh_phone.evaluate(
            """() => [...document.scripts, ...document.querySelectorAll("link[rel=stylesheet]")]
                 .map(element => element.src || element.href)
                 .filter(address => /leaflet|\\/js\\/map\\./.test(address))"""
        )
        if bool(loaded) != (fresh_phone.locator(".map").count() > 0):
            wrong.append(f"{name} ({path}) loads {loaded or 'no map code'}")
    assert not wrong, "; ".join(wrong)


def test_static_files_are_cached_for_good_under_their_hashed_address(fresh_phone, site):
    base, _app = site
    fresh_phone.goto("/report")
    addresses = fresh_phone.evaluate(
        """() => [...document.querySelectorAll("link[rel=stylesheet], script[src]")]
              .map(element => element.href || element.src)"""
    )
    assert addresses
    for address in addresses:
        assert address.startswith(base), address
        assert re.search(r"[?&]v=[0-9a-f]{8,}", address), f"not content-hashed: {address}"
        request = urllib.request.Request(address, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request) as response:
            cache_control = response.headers["Cache-Control"]
            assert "immutable" in cache_control and "max-age=31536000" in cache_control, address
            assert response.headers["Content-Encoding"] == "gzip", address


def test_no_resident_page_scrolls_sideways_on_a_small_phone(browser, site):
    base, app = site
    context = browser.new_context(viewport=PHONE, locale="fr-FR", base_url=base, has_touch=True)
    page = context.new_page()
    wider = []
    for name, path in resident_pages(app).items():
        page.goto(path)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": PHONE["height"]})
            scroll, client = page.evaluate(
                "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            if scroll > client:
                wider.append(f"{name} ({path}) is {scroll} px wide at {width} px")
            if width == 360 and name in ("report form", "tracking", "statistics", "not found"):
                screenshot(page, f"width-360-{name.replace(' ', '-')}")
        page.set_viewport_size(PHONE)
    context.close()
    assert not wider, "; ".join(wider)


def test_without_tiles_the_located_pin_keeps_the_city_in_view(phone, site):
    """The tile server of the live server is down (see conftest): placing the pin from the
    phone's position must not zoom into a blank level 18, and the map says why it is empty.
    The zoom is read from the tiles the map asks for: /{z}/{x}/{y}.png."""
    _base, app = site
    levels = []
    tiles = tile_origin(app)
    phone.on(
        "request",
        lambda request: (
            request.url.startswith(tiles)
            and levels.append(int(request.url[len(tiles) :].split("/")[1]))
        ),
    )
    phone.goto("/report")
    area = phone.locator("#form-map")
    expect(area.locator(".map-notice")).to_have_text("Le fond de carte n'est pas disponible.")
    phone.get_by_role("button", name="Utiliser ma position").click()
    expect(phone.locator("#lat")).not_to_have_value("")
    expect(area.locator(".leaflet-marker-icon")).to_be_visible()
    phone.wait_for_timeout(500)  # Leaflet's zoom animation, and the tiles it would ask for
    screenshot(phone, "map-without-tiles")
    assert levels and max(levels) < 18, sorted(set(levels))
    expect(area.locator(".map-notice")).to_be_visible()
