"""Every resident page passes axe-core (vendored in tests/e2e/vendor/axe-core) with no serious
or critical violation, on a phone, in French and in English: a screen reader user, a keyboard
user or someone with low vision can file and follow a report like anyone else. So does every
page of the dashboard, signed in as each staff role, at a desk and on a phone."""

from pathlib import Path

import pytest

from tests.e2e.conftest import PHONE
from tests.e2e.resident_pages import resident_pages
from tests.e2e.staff_pages import ACCOUNTS, sign_in, staff_pages

DESK = {"width": 1366, "height": 900}
AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text()

#: Run on the page as it stands (Playwright's evaluate is not subject to the page's CSP, which
#: forbids inline scripts): each violation that matters, with the elements it was found on.
RUN_AXE = """async () => {
  const results = await axe.run(document, { resultTypes: ["violations"] });
  return results.violations
    .filter(violation => ["serious", "critical"].includes(violation.impact))
    .map(violation => `${violation.id} (${violation.impact}): ${violation.help} at ` +
         violation.nodes.slice(0, 3).map(node => node.target.join(" ")).join(", "));
}"""


@pytest.mark.parametrize("locale", ["fr-FR", "en-GB"])
def test_no_resident_page_has_a_serious_accessibility_violation(browser, site, locale):
    base, app = site
    context = browser.new_context(
        viewport=PHONE, locale=locale, base_url=base, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    found = []
    for name, path in resident_pages(app).items():
        page.goto(path, wait_until="networkidle")
        page.evaluate(AXE)
        found += [f"{name} ({path}): {violation}" for violation in page.evaluate(RUN_AXE)]
    context.close()
    assert not found, "\n".join(found)


@pytest.mark.parametrize("role", ACCOUNTS)
@pytest.mark.parametrize("locale", ["fr-FR", "en-GB"])
def test_no_staff_page_has_a_serious_accessibility_violation(browser, site, locale, role):
    """At a desk (the queue as a table) and on a phone (as cards), where each role works."""
    base, app = site
    pages = staff_pages(app)[role]
    found = []
    for viewport in (DESK, PHONE):
        context = browser.new_context(viewport=viewport, locale=locale, base_url=base)
        page = context.new_page()
        sign_in(page, app, role)
        for name, path in pages.items():
            answer = page.goto(path, wait_until="networkidle")
            assert answer.status == 200, f"{name} ({path}): {answer.status}"
            page.evaluate(AXE)
            width = viewport["width"]
            found += [f"{name} ({path}, {width} px): {v}" for v in page.evaluate(RUN_AXE)]
        context.close()
    assert not found, "\n".join(found)
