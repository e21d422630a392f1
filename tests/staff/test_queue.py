"""The queue: filters, counts, paging that holds at any depth, bulk actions, CSV export."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tellcity.core.errors import NotAllowed
from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.reports.lifecycle import transition
from tellcity.reports.models import Report, ReportEvent
from tellcity.staff.exports import tickets_csv
from tellcity.staff.queries import QueueFilters
from tests.reports.helpers import submit
from tests.staff.helpers import flashes, post

MONDAY = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def references(page: str) -> list[str]:
    return re.findall(r'name="ticket" value="([^"]+)"', page)


def test_filters_and_counts(client, login_as, demo_city, staff):
    agent = Actor.of(staff["agent.voirie"])
    new = submit(demo_city, "pothole", description="Trou rue Camille Desmoulins")
    acknowledged = submit(demo_city, "pavement")
    transition(acknowledged, "acknowledged", agent)
    db.session.commit()
    login_as("agent.voirie")
    page = client.get("/staff/?status=new").get_data(as_text=True)
    assert references(page) == [new.reference]
    assert references(client.get("/staff/?category=pavement").get_data(as_text=True)) == [
        acknowledged.reference
    ]
    found = client.get("/staff/?q=desmoulins").get_data(as_text=True)
    assert references(found) == [new.reference]
    exact = client.get(f"/staff/?q={acknowledged.reference.lower()}").get_data(as_text=True)
    assert references(exact) == [acknowledged.reference]
    counts = client.get("/staff/").get_data(as_text=True)
    assert "nouveau <strong>1</strong>" in counts and "pris en compte <strong>1</strong>" in counts


def test_counts_stop_at_the_cap_and_say_so(app, client, login_as, demo_city, staff):
    """Past the counting cap the queue says "3+" rather than counting years of history; below
    it, exact figures; the tickets themselves are all listed."""
    app.config["QUEUE_COUNT_CAP"] = 3
    agent = Actor.of(staff["agent.voirie"])
    for _ in range(5):
        submit(demo_city, "pothole")
    for _ in range(2):
        transition(submit(demo_city, "pothole"), "acknowledged", agent)
    db.session.commit()
    login_as("agent.voirie")
    page = client.get("/staff/").get_data(as_text=True)
    assert "nouveau <strong>3+</strong>" in page
    assert "pris en compte <strong>2</strong>" in page
    assert len(references(client.get("/staff/?status=new").get_data(as_text=True))) == 5


def test_hostile_filter_values_are_just_text(client, login_as, demo_city):
    submit(demo_city)
    db.session.commit()
    login_as("agent.voirie")
    for value in ("' OR 1=1 --", "%", "_", "\\", "<script>alert(1)</script>"):
        response = client.get(
            "/staff/", query_string={"q": value, "category": value, "zone": value, "status": value}
        )
        assert response.status_code == 200
        assert references(response.get_data(as_text=True)) == []
        assert "<script>alert(1)</script>" not in response.get_data(as_text=True)


def test_overdue_filter(client, login_as, demo_city):
    late = submit(demo_city, "traffic-light", now=MONDAY)  # 4 business hours
    submit(demo_city, "pothole")
    db.session.commit()
    login_as("agent.voirie")
    assert references(client.get("/staff/?sla=overdue").get_data(as_text=True)) == []
    login_as("agent.voirie")  # traffic lights go to street lighting: use the admin's view
    login_as("admin")
    assert late.reference in references(client.get("/staff/?sla=overdue").get_data(as_text=True))


def test_paging_goes_through_every_ticket_once(client, login_as, demo_city):
    made = [submit(demo_city, now=MONDAY + timedelta(minutes=n)).reference for n in range(120)]
    db.session.commit()
    login_as("agent.voirie")
    seen, url = [], "/staff/?sort=oldest"
    while url:
        page = client.get(url).get_data(as_text=True)
        seen += references(page)
        following = re.search(r'href="([^"]+)" rel="next"', page)
        url = following.group(1).replace("&amp;", "&") if following else None
    assert seen == made


def test_bulk_acknowledge_writes_one_event_per_ticket(client, login_as, demo_city):
    tickets = [submit(demo_city).reference for _ in range(3)]
    other = submit(demo_city, "graffiti").reference  # cleanliness: not ours
    db.session.commit()
    login_as("agent.voirie")
    post(client, "/staff/bulk", action="acknowledge", ticket=[*tickets, other])
    db.session.expire_all()
    statuses = db.session.scalars(sa.select(Report.status).where(Report.reference.in_(tickets)))
    assert set(statuses) == {"acknowledged"}
    events = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ReportEvent)
        .where(ReportEvent.type == "status_change")
    )
    assert events == 3
    assert db.session.scalar(sa.select(Report.status).where(Report.reference == other)) == "new"


def test_bulk_duplicate_and_assign_with_refusals_listed(client, login_as, demo_city, staff):
    original, *copies = (submit(demo_city).reference for _ in range(3))
    db.session.commit()
    login_as("agent.voirie")
    post(client, "/staff/bulk", action="assign", assignee="me", ticket=copies)
    post(client, "/staff/bulk", action="duplicate", original=original, ticket=[*copies, original])
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(Report.reference, Report.status, Report.assignee_id).where(
            Report.reference.in_(copies)
        )
    ).all()
    assert {(status, assignee) for _ref, status, assignee in rows} == {
        ("duplicate", staff["agent.voirie"].id)
    }
    assert any(original in message for message in flashes(client))


def read_csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_csv_export_without_personal_data_unless_a_manager_asks(client, login_as, demo_city):
    submit(
        demo_city,
        reporter_name="Zoé",
        reporter_phone="0611223344",
        description='=HYPERLINK("http://evil")',
    )
    db.session.commit()
    login_as("agent.voirie")
    rows = read_csv(client.get("/staff/export.csv"))
    assert len(rows) == 1 and "reporter_email" not in rows[0]
    assert rows[0]["category"] == "pothole" and rows[0]["department"] == "Voirie et travaux"
    assert rows[0]["description"].startswith("'=")  # never a formula in a spreadsheet
    assert "jeanne@example.org" not in client.get("/staff/export.csv").get_data(as_text=True)
    refused = client.get("/staff/export.csv?personal=1")
    assert refused.status_code == 302
    login_as("chef.voirie")
    personal = read_csv(client.get("/staff/export.csv?personal=1"))
    assert personal[0]["reporter_email"] == "jeanne@example.org"
    assert personal[0]["reporter_name"] == "Zoé"


def test_contact_details_are_exported_for_managers_and_administrators_only(demo_city, staff):
    submit(demo_city, reporter_name="Zoé")
    db.session.commit()
    filters = QueueFilters()
    for name in ("agent.voirie", "agent.accueil", "cabinet"):
        with pytest.raises(NotAllowed):
            tickets_csv(Actor.of(staff[name]), filters, personal=True)
        assert "Zoé" not in "".join(tickets_csv(Actor.of(staff[name]), filters))
    for name in ("chef.voirie", "admin"):
        assert "Zoé" in "".join(tickets_csv(Actor.of(staff[name]), filters, personal=True))


def test_the_queue_opens_on_the_open_tickets_and_links_that_ask_keep_showing_all(
    client, login_as, demo_city, staff
):
    """The bare queue is the work to do; closed tickets are one filter away; a bookmark or a
    link that asks for something (a reference, a category, the old "All" with an empty
    status) shows closed tickets too, as it did; the page's links keep the choice of all."""
    agent = Actor.of(staff["agent.voirie"])
    open_one = submit(demo_city, "pothole")
    closed = submit(demo_city, "pothole")
    transition(closed, "rejected", agent, reason="spam")
    db.session.commit()
    login_as("agent.voirie")
    page = client.get("/staff/").get_data(as_text=True)
    assert references(page) == [open_one.reference]
    assert "<h1" in page and 'value="open" selected' in page
    assert references(client.get("/staff/?status=closed").get_data(as_text=True)) == [
        closed.reference
    ]
    for asking in ("status=all", "status=", "category=pothole", f"q={closed.reference}"):
        shown = references(client.get(f"/staff/?{asking}").get_data(as_text=True))
        assert closed.reference in shown, asking
    every = client.get("/staff/?status=all").get_data(as_text=True)
    assert "/staff/map?status=all" in every and "/staff/export.csv?status=all" in every


def test_csv_and_map_of_the_bare_queue_are_of_its_open_tickets(client, login_as, demo_city, staff):
    transition(submit(demo_city), "rejected", Actor.of(staff["agent.voirie"]), reason="spam")
    open_one = submit(demo_city)
    db.session.commit()
    login_as("agent.voirie")
    points = client.get("/staff/map?format=json").json["points"]
    assert [point["reference"] for point in points] == [open_one.reference]
    assert len(client.get("/staff/map?format=json&status=all").json["points"]) == 2
