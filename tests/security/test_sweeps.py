"""Private data never reaches a public output, and hostile text is inert everywhere it shows.

Unique markers are planted in every private field (reporter name, email, phone, internal notes,
hidden reports and comments); every public page, feed, export and API answer is searched."""

import json

import sqlalchemy as sa

from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.notify.models import OutboxMessage
from tellcity.reports import services
from tellcity.reports.lifecycle import transition
from tellcity.reports.queries import report_by_reference
from tests.notify.helpers import composed
from tests.reports.helpers import TOWN_HALL, submit

MARKERS = {
    "name": "Zqxname Markerson",
    "email": "zqx.marker@example.org",
    "phone": "+33 6 98 76 54 32",
    "note": "ZQXNOTE internal only",
    "hidden_report": "ZQXHIDDEN report text",
    "hidden_comment": "ZQXHIDDENCOMMENT text",
}
XSS = '<script>alert("zqx")</script><img src=x onerror=alert(1)>'


def plant(city, staff) -> dict:
    agent = Actor.of(staff["agent.voirie"])
    visible = submit(
        city,
        "pothole",
        reporter_name=MARKERS["name"],
        reporter_email=MARKERS["email"],
        reporter_phone=MARKERS["phone"],
        description="Trou profond",
    )
    services.add_note(visible, MARKERS["note"], agent)
    comment = services.add_comment(visible, MARKERS["hidden_comment"], Actor.reporter(visible))
    comment.is_hidden = True
    services.reply(visible, "Intervention prévue.", agent)
    hidden = submit(city, "pothole", description=MARKERS["hidden_report"], at=TOWN_HALL)
    hidden.is_hidden = True
    idea = submit(
        city,
        "idea-mobility",
        at=None,
        reporter_email=MARKERS["email"],
        description="Des arceaux vélos",
    )
    transition(idea, "under_review", Actor.of(staff["agent.accueil"]), text="À l'étude.")
    db.session.commit()
    return {"visible": visible.reference, "hidden": hidden.reference, "idea": idea.reference}


def public_urls(app, refs: dict) -> list[str]:
    lat, lon = TOWN_HALL
    urls = [
        "/",
        "/reports",
        "/ideas",
        "/ideas?order=recent",
        f"/reports/{refs['visible']}",
        f"/reports/{refs['idea']}",
        "/reports/markers.json?bbox=2.2,48.8,2.3,48.9",
        "/api/v1/categories",
        f"/api/v1/reports/{refs['visible']}",
        f"/api/v1/reports/nearby?lat={lat}&lon={lon}",
        "/feeds/reports.atom",
        "/feeds/reports.atom?category=pothole",
        "/open-data/reports.csv",
        "/open-data/reports.geojson",
        "/stats",
    ]
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    if "/open311/v2/requests.<fmt>" in rules or "/open311/v2/requests.json" in rules:
        for fmt in ("json", "xml"):
            urls += [
                f"/open311/v2/requests.{fmt}",
                f"/open311/v2/requests/{refs['visible']}.{fmt}",
                f"/open311/v2/servicerequestupdates.{fmt}",
                f"/open311/v2/services.{fmt}",
            ]
    return urls


def test_no_private_marker_in_any_public_output(app, client, demo_city, staff):
    refs = plant(demo_city, staff)
    for url in public_urls(app, refs):
        body = client.get(url).get_data(as_text=True)
        for what, marker in MARKERS.items():
            assert marker not in body, (url, what)
        assert "98 76 54 32" not in body, url
    assert client.get(f"/reports/{refs['hidden']}").status_code == 404


def test_emails_to_followers_carry_no_reporter_data(app, demo_city, staff):
    refs = plant(demo_city, staff)
    visible = report_by_reference(refs["visible"])
    services.follow(visible, "voisin@example.org", confirmed=True)
    services.reply(visible, "Nouvelle réponse.", Actor.of(staff["agent.voirie"]))
    db.session.commit()
    to_follower = composed(
        db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.recipient == "voisin@example.org")
        ).all()
    )
    assert to_follower
    for message in to_follower:
        stored = json.dumps(message.payload, ensure_ascii=False)  # what it is rendered from
        for field in (message.body, message.html_body or "", message.subject, stored):
            for marker in (MARKERS["name"], MARKERS["email"], MARKERS["phone"], MARKERS["note"]):
                assert marker not in field


def test_hostile_text_is_inert_in_every_page_and_email(app, client, login_as, demo_city, staff):
    report = submit(demo_city, "pothole", description=XSS, address=XSS, reporter_name=XSS)
    services.add_comment(report, XSS, Actor.reporter(report))
    services.reply(report, XSS, Actor.of(staff["agent.voirie"]))
    db.session.commit()
    for url in ("/", "/reports", f"/reports/{report.reference}"):
        assert "<script>alert" not in client.get(url).get_data(as_text=True), url
    api = client.get(f"/api/v1/reports/{report.reference}")
    assert api.mimetype == "application/json"  # data for programs, never read as a page
    assert api.headers["X-Content-Type-Options"] == "nosniff"
    login_as("agent.voirie")
    for url in ("/staff/", f"/staff/tickets/{report.reference}"):
        page = client.get(url)
        assert "<script>alert" not in page.get_data(as_text=True), url
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    export = client.get("/staff/export.csv")
    assert export.mimetype == "text/csv" and "attachment" in export.headers["Content-Disposition"]
    for message in composed(db.session.scalars(sa.select(OutboxMessage)).all()):
        assert "<script>alert" not in (message.html_body or ""), message.subject


def test_feeds_and_open_data_are_public_and_private_free(client, demo_city, staff):
    import csv
    import io
    import json
    from xml.etree import ElementTree

    refs = plant(demo_city, staff)
    atom = client.get("/feeds/reports.atom")
    assert atom.mimetype == "application/atom+xml"
    entries = ElementTree.fromstring(atom.data).findall("{http://www.w3.org/2005/Atom}entry")
    titles = " ".join(e.find("{http://www.w3.org/2005/Atom}title").text for e in entries)
    assert refs["visible"] in titles and refs["hidden"] not in titles
    zone = client.get("/feeds/reports.atom?zone=nowhere")
    assert ElementTree.fromstring(zone.data).find("{http://www.w3.org/2005/Atom}entry") is None
    rows = list(
        csv.DictReader(io.StringIO(client.get("/open-data/reports.csv").get_data(as_text=True)))
    )
    assert {row["reference"] for row in rows} == {refs["visible"], refs["idea"]}
    geo = json.loads(client.get("/open-data/reports.geojson").get_data(as_text=True))
    assert len(geo["features"]) == 2
    for url in ("/feeds/reports.atom", "/open-data/reports.csv", "/open-data/reports.geojson"):
        body = client.get(url).get_data(as_text=True)
        for marker in MARKERS.values():
            assert marker not in body, (url, marker)
