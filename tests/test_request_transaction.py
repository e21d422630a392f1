"""One transaction per request: a request that fails, at any point, leaves nothing written."""

import io
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from tellcity.categories.models import Category
from tellcity.extensions import db
from tellcity.reports.models import Report, ReportEvent
from tests.factories import make_report
from tests.photos.images import camera_photo
from tests.reports.helpers import TOWN_HALL
from tests.staff.helpers import flashes, post
from tests.web.helpers import form_tokens


def ticket(demo_city, staff) -> str:
    """A new pothole ticket in the road department's queue."""
    pothole = db.session.scalar(
        sa.select(Category).where(Category.city_id == demo_city.id, Category.code == "pothole")
    )
    report = make_report(pothole, department=staff["agent.voirie"].department)
    db.session.commit()
    return report.reference


def written(reference: str) -> tuple[str, int]:
    """The ticket's status and how many events it has, as the database has them."""
    db.session.expire_all()
    report = db.session.scalar(sa.select(Report).where(Report.reference == reference))
    events = db.session.scalar(sa.select(sa.func.count()).where(ReportEvent.report_id == report.id))
    return report.status, events


@contextmanager
def database_gone_at_commit():
    """The database drops the connection just as a transaction commits (a failover)."""

    def drop(connection):
        raise OperationalError("COMMIT", None, Exception("server closed the connection"))

    sa.event.listen(db.engine, "commit", drop)
    try:
        yield
    finally:
        sa.event.remove(db.engine, "commit", drop)


def test_a_refusal_after_a_partial_write_leaves_nothing_written(client, login_as, demo_city, staff):
    reference = ticket(demo_city, staff)
    before = written(reference)
    login_as("agent.voirie")
    # The status changes (an event is written), then the photo sent with it is refused.
    photo = (io.BytesIO(b"not a picture"), "photo.jpg")
    response = post(client, f"/staff/tickets/{reference}/status", to="acknowledged", photo=photo)
    assert response.status_code == 302
    assert written(reference) == before == ("new", 0)
    assert len(flashes(client)) == 1


def test_the_database_gone_at_commit_answers_503_and_nothing_is_written(
    client, login_as, demo_city, staff
):
    reference = ticket(demo_city, staff)
    before = written(reference)
    login_as("agent.voirie")
    data = {**form_tokens(client, "/staff/"), "to": "acknowledged"}
    with database_gone_at_commit():
        response = client.post(f"/staff/tickets/{reference}/status", data=data)
    assert response.status_code == 503
    assert "Rien n&#39;a été enregistré" in response.get_data(as_text=True)
    assert written(reference) == before
    assert flashes(client) == []  # no "status changed" waiting for the next page
    # And the next request works and writes.
    response = post(client, f"/staff/tickets/{reference}/status", to="acknowledged")
    assert response.status_code == 302
    assert written(reference)[0] == "acknowledged"


def test_a_bulk_action_cut_off_at_commit_writes_none_of_its_tickets(
    client, login_as, demo_city, staff
):
    tickets = [ticket(demo_city, staff) for _ in range(3)]
    login_as("agent.voirie")
    data = {**form_tokens(client, "/staff/"), "action": "acknowledge", "ticket": tickets}
    with database_gone_at_commit():
        response = client.post("/staff/bulk", data=data)
    assert response.status_code == 503
    assert {written(reference)[0] for reference in tickets} == {"new"}


def test_a_report_cut_off_at_commit_leaves_no_photo_file(app, client, demo_city):
    data = {
        **form_tokens(client, "/report"),
        "questions_for": "pothole",  # its questions shown, as a browser shows them
        "category": "pothole",
        "lat": TOWN_HALL[0],
        "lon": TOWN_HALL[1],
        "photos": [(io.BytesIO(camera_photo()), "trou.jpg")],
    }
    with database_gone_at_commit():
        response = client.post("/report", data=data, content_type="multipart/form-data")
    assert response.status_code == 503
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 0
    # Only the form's copy waits under pending/ (for the resident's next try, swept after a
    # day); the report's stored photo went with its transaction.
    uploads = Path(app.config["UPLOAD_FOLDER"])
    stored = [path for path in uploads.rglob("*") if path.is_file() and "pending" not in path.parts]
    assert stored == []
