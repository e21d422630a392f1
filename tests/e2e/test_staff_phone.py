"""An agent in the street, on a phone (390 by 844, touch): the queue, a ticket with a long
history and the map fit the screen for every staff role that opens them; the status form asks
only for what the chosen move needs, and still works without JavaScript; the "after" photo is
taken with the phone's camera."""

import io

import pytest
import sqlalchemy as sa
from PIL import Image
from playwright.sync_api import expect

from tellcity.cities.queries import default_city
from tellcity.extensions import db
from tellcity.reports.models import Report
from tests.e2e.conftest import PHONE, screenshot
from tests.e2e.staff_pages import ACCOUNTS, LONG_NAME, SOUTH, sign_in, staff_pages
from tests.reports.helpers import submit

#: The moves of a new problem and the fields each needs beyond its text.
FIELDS = {
    "acknowledged": set(),
    "in_progress": set(),
    "resolved": set(),
    "duplicate": {"duplicate_of"},
    "referred": {"referred_to"},
    "not_actionable": {"reason"},
    "rejected": {"reason"},
}
CONDITIONAL = ("reason", "duplicate_of", "referred_to")
WIDTH = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"


def on_phone(browser, site, locale="fr-FR", **options):
    base, _app = site
    context = browser.new_context(
        viewport=PHONE,
        locale=locale,
        base_url=base,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        **options,
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page


@pytest.mark.parametrize("role", ACCOUNTS)
def test_the_dashboard_fits_a_phone_for_every_role(browser, site, role):
    _base, app = site
    pages = staff_pages(app)[role]
    page = on_phone(browser, site)
    sign_in(page, app, role)
    wider = []
    for name in ("queue", "ticket", "map"):
        page.goto(pages[name], wait_until="networkidle")
        scroll, client = page.evaluate(WIDTH)
        print(f"{role} {name}: {scroll} px wide in {client} px")
        if scroll > client:
            wider.append(f"{name} ({pages[name]}) is {scroll} px wide at {client} px")
        if name == "queue":
            assert page.locator("table.queue tbody tr").count() == 50  # a full page of them
            expect(page.locator("table.queue").get_by_text(LONG_NAME).first).to_be_visible()
        if name == "map":
            box = page.locator("#staff-map").bounding_box()
            assert box["width"] >= client - 40, box  # the map fills the width
        if role == "agent":
            screenshot(page, f"staff-phone-{name}")
    page.context.close()
    assert not wider, "; ".join(wider)


def new_ticket(app) -> str:
    with app.app_context():
        report = submit(default_city(), "road-marking", at=SOUTH, description="Panneau tombé")
        db.session.commit()
        return report.reference


def visible_fields(page) -> set[str]:
    return {name for name in CONDITIONAL if page.locator(f"#status-form #{name}").is_visible()}


def test_the_status_form_asks_only_for_what_the_move_needs(browser, site):
    _base, app = site
    staff_pages(app)
    page = on_phone(browser, site)
    sign_in(page, app, "agent")
    page.goto(f"/staff/tickets/{new_ticket(app)}")
    shown = {}
    for status in FIELDS:
        page.select_option("#to", status)
        shown[status] = visible_fields(page)
    assert shown == FIELDS
    page.select_option("#to", "rejected")
    offered = page.locator("#reason option:not([value=''])")
    codes = [
        o.get_attribute("value") for o in offered.all() if o.evaluate("o => !o.parentNode.disabled")
    ]
    assert codes == ["spam", "abuse", "personal_data", "test", "other"]
    # The hidden fields are out of the form and out of the screen reader's way too.
    assert page.locator("#field-duplicate-of").get_attribute("hidden") is not None
    assert page.locator("#duplicate_of").is_disabled()
    page.context.close()


def resident_photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (120, 160, 90)).save(buffer, "JPEG")
    return buffer.getvalue()


def status_of(app, reference: str) -> tuple[str, str | None, int]:
    with app.app_context():
        report = db.session.scalar(sa.select(Report).where(Report.reference == reference))
        return report.status, report.close_reason, len(report.photos)


@pytest.mark.parametrize("javascript", [True, False], ids=["with JavaScript", "without"])
def test_each_move_is_made_from_a_phone(browser, site, javascript):
    """Closing as not actionable (a reason), as a duplicate (the original), referring to an
    outside body, and resolving with an "after" photo from the camera."""
    _base, app = site
    staff_pages(app)
    page = on_phone(browser, site, java_script_enabled=javascript)
    sign_in(page, app, "agent")
    original = new_ticket(app)
    moves = [
        ("not_actionable", {"#reason": "private_property"}),
        ("duplicate", {"#duplicate_of": original}),
        ("referred", {"#referred_to": "label=Île-de-France Mobilités (transports, abribus)"}),
        ("resolved", {"#status-text": "Panneau remis en place."}),
    ]
    for status, fields in moves:
        reference = new_ticket(app)
        page.goto(f"/staff/tickets/{reference}")
        if not javascript:  # every field is there, its label saying when it applies
            assert visible_fields(page) == set(CONDITIONAL)
            expect(page.locator("label[for=duplicate_of]")).to_contain_text("doublon")
        page.select_option("#to", status)
        for selector, value in fields.items():
            if value.startswith("label="):
                page.select_option(selector, label=value.removeprefix("label="))
            elif page.locator(selector).evaluate("e => e.tagName") == "SELECT":
                page.select_option(selector, value)
            else:
                page.fill(selector, value)
        if status == "resolved":
            photo = page.locator("#photo")
            assert photo.get_attribute("capture") == "environment"
            assert "image/jpeg" in photo.get_attribute("accept")
            photo.set_input_files(
                {"name": "apres.jpg", "mimeType": "image/jpeg", "buffer": resident_photo()}
            )
        page.locator("#status-form button[type=submit]").click()
        page.wait_for_load_state()
        expect(page.locator(".flash-success")).to_be_visible()
        assert status_of(app, reference)[0] == status, (status, page.text_content("main"))
        scroll, client = page.evaluate(WIDTH)
        assert scroll <= client, f"the ticket is {scroll} px wide after {status}"
    assert status_of(app, reference) == ("resolved", None, 1)
    page.context.close()
