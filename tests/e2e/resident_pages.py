"""Every page a resident may open, for the checks that go through them all (layout at phone
widths, accessibility): a report and an idea are filed once per live server so that their
public pages and the report's tracking page exist. The report is away from the town hall and
of a category no other browser test files, so that it never shows among their nearby reports."""

from functools import cache

from tellcity.cities.queries import default_city
from tellcity.extensions import db
from tellcity.reports.links import tracking_url
from tests.reports.helpers import ILE_SAINT_GERMAIN, submit


@cache
def resident_pages(app) -> dict[str, str]:
    """{name: path} of each resident page of the demo city served by `app`."""
    with app.app_context():
        city = default_city()
        report = submit(city, "graffiti", at=ILE_SAINT_GERMAIN, description="Tag sur le kiosque")
        idea = submit(city, "idea-environment", at=None, description="Des bancs à l'ombre")
        db.session.commit()
        with app.test_request_context():
            tracking = tracking_url(report)
        report_page, idea_page = f"/reports/{report.reference}", f"/reports/{idea.reference}"
    return {
        "home": "/",
        "report form": "/report",
        "idea form": "/idea",
        "reports": "/reports",
        "ideas": "/ideas",
        "a report": report_page,
        "an idea": idea_page,
        "tracking": tracking,
        "my reports": "/mine",
        "statistics": "/stats",
        "sign-in": "/account/signin",
        "not found": "/no-such-page",
        "bad request": "/reports?q=%00",
    }
