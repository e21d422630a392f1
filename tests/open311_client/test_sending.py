"""TellCity as an Open311 client, the sending side (issue 22): a department connected to its
own Open311 system through the admin pages gets the reports routed to it POSTed there by the
worker, exactly once; what the remote refuses, or a token it loses, is shown on the ticket
with its words, and a manager sends it again once the mapping is fixed."""

from datetime import timedelta

import pytest

from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.notify.services import retry_dead
from tellcity.open311.client.models import Open311Mapping
from tellcity.photos.services import process_upload
from tellcity.reports import services as reports
from tellcity.reports.models import Report
from tests.admin.helpers import audit, flashes, post
from tests.open311_client.sending_helpers import (
    POTHOLE_DEFINITION,
    POTHOLE_SERVICE,
    connect,
    deliver,
    fetch_services,
    fresh_department,
    map_category,
    open311_message,
    remote_reports,
    remote_row,
)
from tests.photos.images import photo
from tests.reports.helpers import category, department, submit
from tests.web.helpers import text

LATER = timedelta(hours=7)  # past any backoff


@pytest.fixture(autouse=True)
def english(client):
    """The pages in English, whatever the French catalog says."""
    client.set_cookie("lang", "en")


@pytest.fixture
def admin(client, login_as, demo_city):
    return login_as("admin")


@pytest.fixture
def quick(app):
    """A remote that does not answer is given up on after half a second."""
    app.config["OPEN311_TIMEOUT"] = 0.5


def pothole(city):
    # No reporter's address: no acknowledgement in the outbox beside the forward.
    report = submit(city, "pothole", answers={"size": "large"}, reporter_email=None)
    db.session.commit()
    return report


def test_a_routed_report_reaches_the_remote_tellcity_once(client, admin, demo_city, remote):
    road = connect(client, demo_city, remote.base_url, remote.api_key, remote.jurisdiction)
    assert fetch_services(client, road).status_code == 302
    road = fresh_department(road.id)
    codes = {service["service_code"]: service for service in road.open311_services}
    assert "size" in {attribute["code"] for attribute in codes["pothole"]["attributes"]}
    map_category(client, road, "pothole", "pothole", {"size": "size"})
    before = len(remote_reports(remote))

    report = pothole(demo_city)
    row = remote_row(report)
    assert row.state == "queued" and row.service_request_id is None
    assert deliver().sent == 1

    row = remote_row(report)
    assert row.state == "open" and row.sent_at is not None
    sent = remote_reports(remote)[before:]
    assert sent == [(row.service_request_id, "pothole", {"size": "large"})]
    page = text(client.get(f"/staff/tickets/{report.reference}"))
    assert "Remote system" in page and row.service_request_id in page

    # Delivered again (a retry, a second worker): nothing is POSTed twice.
    message = open311_message(report)
    message.status, message.next_attempt_at = "pending", message.created_at
    db.session.commit()
    assert deliver().sent == 1
    assert len(remote_reports(remote)) == before + 1

    # The worker died after the remote's answer, before recording it: the POST is repeated,
    # with the same Idempotency-Key, and the remote answers the request it already made.
    known = row.service_request_id
    row.state, row.service_request_id = "queued", None
    message = open311_message(report)
    message.status, message.next_attempt_at = "pending", message.created_at
    db.session.commit()
    assert deliver().sent == 1
    assert remote_row(report).service_request_id == known
    assert len(remote_reports(remote)) == before + 1


def test_the_api_key_is_never_shown_again_and_the_audit_keeps_none(
    client, admin, demo_city, stand_in
):
    road = connect(client, demo_city, stand_in.base_url, "k3y-never-shown", "issy")
    assert road.open311_api_key == "k3y-never-shown"
    page = text(client.get(f"/staff/admin/departments/{road.id}"))
    assert "k3y-never-shown" not in page and stand_in.base_url in page
    listed = text(client.get("/staff/admin/departments"))
    assert f"/staff/admin/departments/{road.id}/open311" in listed
    # Saved again with the key's field left empty: the key stays.
    connect(client, demo_city, stand_in.base_url, "", "issy")
    assert fresh_department(road.id).open311_api_key == "k3y-never-shown"
    assert "k3y-never-shown" not in str([entry.after for entry in audit("departments")])
    assert "k3y-never-shown" not in text(client.get(f"/staff/admin/departments/{road.id}/open311"))


def test_open311_delivery_needs_an_endpoint(client, admin, demo_city):
    road = category(demo_city, "pothole").department
    answer = post(
        client,
        f"/staff/admin/departments/{road.id}",
        {"name": road.name, "email": road.email, "delivery_method": "open311"},
    )
    assert answer.status_code == 422
    assert "needs the system&#39;s endpoint" in answer.get_data(as_text=True)


def test_fetching_services_and_mapping_them(client, admin, demo_city, stand_in):
    stand_in.serve_services(
        [POTHOLE_SERVICE, {**POTHOLE_SERVICE, "service_code": "ECL", "metadata": False}]
    )
    stand_in.serve("GET", "services/NDP.json", POTHOLE_DEFINITION)
    road = connect(client, demo_city, stand_in.base_url, "key", "issy")
    fetch_services(client, road)
    assert stand_in.asked("GET", "services.json")[0].query == {"jurisdiction_id": ["issy"]}
    road = fresh_department(road.id)
    assert [service["service_code"] for service in road.open311_services] == ["NDP", "ECL"]
    page = text(client.get(f"/staff/admin/departments/{road.id}/open311"))
    assert "Nid de poule (NDP)" in page

    map_category(client, road, "pothole", "NDP", {"taille": "size"})
    mapping = db.session.query(Open311Mapping).one()
    assert (mapping.service_code, mapping.attributes) == ("NDP", {"taille": "size"})
    assert [entry.action for entry in audit("open311_mappings")] == ["create", "update"]

    # A question the category does not ask is refused, and nothing is lost.
    ours = category(demo_city, "pothole")
    answer = post(
        client,
        f"/staff/admin/departments/{road.id}/open311",
        {f"service-{ours.id}": "NDP", f"attr-{ours.id}-taille": "colour"},
    )
    assert answer.status_code == 422 and "colour is not a question" in text(answer)
    db.session.expire_all()
    assert db.session.query(Open311Mapping).one().attributes == {"taille": "size"}


def test_a_remote_that_cannot_be_read_leaves_the_services_as_they_were(
    client, admin, demo_city, stand_in
):
    stand_in.serve_services([POTHOLE_SERVICE])
    stand_in.serve("GET", "services/NDP.json", POTHOLE_DEFINITION)
    road = connect(client, demo_city, stand_in.base_url, "key", "issy")
    fetch_services(client, road)
    assert "fetched" in flashes(client)[-1]
    client.get(f"/staff/admin/departments/{road.id}/open311")  # shows the flashes
    stand_in.failing = 500
    assert fetch_services(client, road).status_code == 302
    [message] = flashes(client)
    assert "could not be read" in message and "HTTP 500" in message
    assert [s["service_code"] for s in fresh_department(road.id).open311_services] == ["NDP"]


def connected(client, city, stand_in, attributes=None):
    """The road works department connected to the stand-in, pothole mapped to NDP."""
    stand_in.serve_services([POTHOLE_SERVICE])
    stand_in.serve("GET", "services/NDP.json", POTHOLE_DEFINITION)
    road = connect(client, city, stand_in.base_url, "key", "issy")
    fetch_services(client, road)
    map_category(client, fresh_department(road.id), "pothole", "NDP", attributes)
    return road


def test_what_is_posted_is_the_public_report_without_the_reporter(
    client, admin, demo_city, stand_in
):
    connected(client, demo_city, stand_in, {"taille": "size"})
    stand_in.accept("R-1")
    report = submit(
        demo_city,
        "pothole",
        answers={"size": "large"},
        description="Trou profond, appelez-moi au 06 12 34 56 78",
        reporter_email="jeanne@example.org",
        reporter_name="Jeanne",
    )
    db.session.commit()
    assert deliver().sent == 1
    [call] = stand_in.asked("POST", "requests.json")
    form = {name: values[0] for name, values in call.form.items()}
    assert form["api_key"] == "key" and form["jurisdiction_id"] == "issy"
    assert form["service_code"] == "NDP" and form["attribute[taille]"] == "large"
    assert form["lat"] and form["long"]
    assert "06 12 34 56 78" not in form["description"]
    assert not {"email", "first_name", "last_name", "phone"} & set(form)
    assert "jeanne" not in str(call.form).lower()
    assert "media_url" not in form  # no photo
    assert remote_row(report).service_request_id == "R-1"


def test_the_first_photo_the_public_may_see_is_sent_as_media_url_and_served_from_here(
    app, client, admin, demo_city, remote
):
    road = connect(client, demo_city, remote.base_url, remote.api_key, remote.jurisdiction)
    fetch_services(client, road)
    map_category(client, fresh_department(road.id), "pothole", "pothole", {"size": "size"})
    hidden, shown = process_upload(photo(color=(10, 200, 30))), process_upload(photo())
    report = submit(
        demo_city, "pothole", answers={"size": "large"}, reporter_email=None, photos=[hidden, shown]
    )
    report.photos[0].is_hidden = True  # a moderator hid it: not on the public page
    db.session.commit()
    key = report.photos[1].storage_key

    assert deliver().sent == 1
    there = remote.report(remote_row(report).service_request_id)
    media_url = there.attributes["_media_url"]  # what the remote's staff see
    assert media_url == f"{app.config['BASE_URL']}/media/{key}"
    answer = client.get(media_url)
    assert answer.status_code == 200 and answer.get_data() == shown.image
    answer.close()


def test_no_media_url_for_a_report_whose_photos_are_all_hidden(client, admin, demo_city, stand_in):
    connected(client, demo_city, stand_in)
    stand_in.accept("R-9")
    report = submit(demo_city, "pothole", reporter_email=None, photos=[process_upload(photo())])
    report.photos[0].is_hidden = True
    db.session.commit()
    assert deliver().sent == 1
    [call] = stand_in.asked("POST", "requests.json")
    assert "media_url" not in call.form and call.form["service_code"] == ["NDP"]


def test_a_remote_that_times_out_gets_the_report_once_it_is_back(
    client, admin, demo_city, stand_in, quick
):
    connected(client, demo_city, stand_in)
    report = pothole(demo_city)
    stand_in.hanging = True
    counts = deliver()
    assert (counts.sent, counts.retrying) == (0, 1)
    row = remote_row(report)
    assert row.state == "queued" and "timed out" in row.last_error
    page = text(client.get(f"/staff/tickets/{report.reference}"))
    assert "waiting to be sent" in page and "timed out" in page

    stand_in.hanging = False
    stand_in.accept("R-2")
    assert deliver(LATER).sent == 1
    row = remote_row(report)
    assert (row.state, row.service_request_id, row.last_error) == ("open", "R-2", None)


def test_a_remote_answering_500_is_tried_again(client, admin, demo_city, stand_in):
    connected(client, demo_city, stand_in)
    report = pothole(demo_city)
    stand_in.failing = 500
    assert deliver().retrying == 1
    assert open311_message(report).status == "pending"
    assert "HTTP 500" in remote_row(report).last_error
    stand_in.failing = None
    stand_in.accept("R-3")
    assert deliver(LATER).sent == 1
    assert remote_row(report).service_request_id == "R-3"


def test_a_refusal_is_shown_and_a_manager_resends_once_the_mapping_is_fixed(
    client, login_as, demo_city, stand_in
):
    login_as("admin")
    road = connected(client, demo_city, stand_in)  # taille not mapped
    report = pothole(demo_city)
    stand_in.refuse_missing_attribute("taille")
    counts = deliver()
    assert (counts.sent, counts.retrying, counts.dead) == (0, 0, 1)  # not retried forever
    row = remote_row(report)
    assert row.state == "refused" and row.last_error == "attribute[taille] is required"

    login_as("chef.voirie")
    page = text(client.get(f"/staff/tickets/{report.reference}"))
    assert "refused" in page and "attribute[taille] is required" in page and "Resend" in page
    login_as("agent.voirie")  # an agent sees it, and cannot resend
    assert "Resend" not in text(client.get(f"/staff/tickets/{report.reference}"))
    url = f"/staff/tickets/{report.reference}/remote/{row.id}/resend"
    assert post(client, url).status_code == 403

    login_as("admin")
    map_category(client, fresh_department(road.id), "pothole", "NDP", {"taille": "size"})
    stand_in.accept("R-4")
    login_as("chef.voirie")
    assert post(client, url).status_code == 302
    assert remote_row(report).state == "queued"
    [entry] = audit("remote_requests", row.id, "resend")
    assert entry.after["state"] == "queued"
    assert deliver().sent == 1
    row = remote_row(report)
    assert (row.state, row.service_request_id, row.last_error) == ("open", "R-4", None)
    last = stand_in.asked("POST", "requests.json")[-1]
    assert last.form["attribute[taille]"] == ["large"]
    # Sent: nothing left to resend.
    assert post(client, url).status_code == 302
    assert remote_row(report).state == "open"


def test_a_token_is_followed_until_the_id_is_known(client, admin, demo_city, stand_in):
    connected(client, demo_city, stand_in)
    report = pothole(demo_city)
    stand_in.serve("POST", "requests.json", [{"token": "T-1"}])
    stand_in.serve("GET", "tokens/T-1.json", [{"token": "T-1"}])  # no id yet
    assert deliver().retrying == 1
    row = remote_row(report)
    assert (row.state, row.token) == ("token", "T-1")
    assert "T-1" in text(client.get(f"/staff/tickets/{report.reference}"))

    stand_in.serve("GET", "tokens/T-1.json", [{"token": "T-1", "service_request_id": "R-5"}])
    assert deliver(LATER).sent == 1
    row = remote_row(report)
    assert (row.state, row.service_request_id) == ("open", "R-5")
    assert len(stand_in.asked("POST", "requests.json")) == 1  # followed, never POSTed again


def test_a_lost_token_is_refused_for_staff_to_see_and_resend(client, login_as, demo_city, stand_in):
    login_as("admin")
    connected(client, demo_city, stand_in)
    report = pothole(demo_city)
    stand_in.lose_token("T-2")
    assert deliver().dead == 1
    row = remote_row(report)
    assert row.state == "refused" and "T-2" in row.last_error
    assert "token T-2 not found" in row.last_error
    login_as("chef.voirie")
    page = text(client.get(f"/staff/tickets/{report.reference}"))
    assert "T-2" in page and "Resend" in page
    stand_in.accept("R-6")
    assert post(client, f"/staff/tickets/{report.reference}/remote/{row.id}/resend").status_code
    assert deliver().sent == 1
    assert remote_row(report).service_request_id == "R-6"


def test_a_category_without_a_mapping_is_refused_here_with_a_reason(
    client, admin, demo_city, stand_in
):
    stand_in.serve_services([POTHOLE_SERVICE])
    connect(client, demo_city, stand_in.base_url, "key", "issy")
    report = pothole(demo_city)
    assert deliver().dead == 1
    row = remote_row(report)
    assert row.state == "refused" and "pothole" in row.last_error
    assert stand_in.asked("POST", "requests.json") == []


def test_a_report_transferred_away_before_it_is_sent_is_not_sent_until_it_comes_back(
    client, admin, demo_city, stand_in, staff
):
    road = connected(client, demo_city, stand_in)
    report = pothole(demo_city)
    cleaning = department(demo_city, "proprete")
    manager = Actor.of(staff["chef.voirie"])
    reports.transfer(report, cleaning, manager, "Ce sont des gravats")
    db.session.commit()
    deliver()
    row = remote_row(report)
    assert row.state == "stopped" and road.name in row.last_error  # in the city's language
    assert stand_in.asked("POST", "requests.json") == []

    report = db.session.get(Report, report.id)
    reports.transfer(report, fresh_department(road.id), Actor.of(staff["admin"]), "Retour")
    db.session.commit()
    assert remote_row(report).state == "queued"
    stand_in.accept("R-7")
    deliver()
    assert remote_row(report).service_request_id == "R-7"
    assert len(stand_in.asked("POST", "requests.json")) == 1


def test_an_answer_with_neither_id_nor_token_is_tried_again(client, admin, demo_city, stand_in):
    connected(client, demo_city, stand_in)
    report = pothole(demo_city)
    stand_in.serve("POST", "requests.json", [{"service_notice": "merci"}])
    assert deliver().retrying == 1
    row = remote_row(report)
    assert row.state == "queued" and row.last_error
    stand_in.accept("R-8")
    assert deliver(LATER).sent == 1
    assert remote_row(report).service_request_id == "R-8"


def test_a_token_still_without_an_id_at_the_last_attempt_is_refused_and_resend_follows_it(
    app, client, login_as, demo_city, stand_in
):
    login_as("admin")
    connected(client, demo_city, stand_in)
    app.config["OUTBOX_MAX_ATTEMPTS"] = 2
    report = pothole(demo_city)
    stand_in.serve("POST", "requests.json", [{"token": "T-3"}])
    stand_in.serve("GET", "tokens/T-3.json", [{"token": "T-3"}])  # never an id
    assert deliver().retrying == 1
    assert deliver(LATER).dead == 1
    row = remote_row(report)
    assert (row.state, row.token) == ("refused", "T-3")
    assert "T-3" in row.last_error and "dernière tentative" in row.last_error  # the city's

    login_as("chef.voirie")
    page = text(client.get(f"/staff/tickets/{report.reference}"))
    assert "refused" in page and "dernière tentative" in page and "Resend" in page
    assert "it is not sent twice" in page  # what Resend does, in the page's language
    stand_in.serve("GET", "tokens/T-3.json", [{"token": "T-3", "service_request_id": "R-10"}])
    assert post(client, f"/staff/tickets/{report.reference}/remote/{row.id}/resend").status_code
    assert remote_row(report).state == "token"
    assert deliver().sent == 1
    row = remote_row(report)
    assert (row.state, row.service_request_id, row.last_error) == ("open", "R-10", None)
    assert len(stand_in.asked("POST", "requests.json")) == 1  # followed, never POSTed again


def test_a_dead_token_retried_from_the_outbox_is_followed_not_posted_again(
    app, client, admin, demo_city, stand_in
):
    connected(client, demo_city, stand_in)
    app.config["OUTBOX_MAX_ATTEMPTS"] = 1
    report = pothole(demo_city)
    stand_in.serve("POST", "requests.json", [{"token": "T-4"}])
    stand_in.serve("GET", "tokens/T-4.json", [{"token": "T-4"}])
    assert deliver().dead == 1
    assert remote_row(report).state == "refused"

    retry_dead(open311_message(report).id)  # the operator's retry, not the ticket's Resend
    db.session.commit()
    stand_in.serve("GET", "tokens/T-4.json", [{"token": "T-4", "service_request_id": "R-11"}])
    assert deliver().sent == 1
    assert remote_row(report).service_request_id == "R-11"
    assert len(stand_in.asked("POST", "requests.json")) == 1


def test_a_forward_given_up_while_the_remote_was_down_is_refused_and_resend_posts_it(
    app, client, login_as, demo_city, stand_in
):
    login_as("admin")
    connected(client, demo_city, stand_in)
    app.config["OUTBOX_MAX_ATTEMPTS"] = 1
    report = pothole(demo_city)
    stand_in.failing = 500
    assert deliver().dead == 1
    row = remote_row(report)
    assert row.state == "refused" and row.token is None
    assert "dernière tentative" in row.last_error and "HTTP 500" in row.last_error

    login_as("chef.voirie")
    page = text(client.get(f"/staff/tickets/{report.reference}"))
    assert "HTTP 500" in page and "Resend" in page
    stand_in.failing = None
    stand_in.accept("R-12")
    assert post(client, f"/staff/tickets/{report.reference}/remote/{row.id}/resend").status_code
    assert remote_row(report).state == "queued"
    assert deliver().sent == 1
    assert remote_row(report).service_request_id == "R-12"


def test_attributes_a_remote_fills_from_its_sender_get_the_reports_reference_and_address(
    app, client, admin, demo_city, stand_in
):
    # As FixMyStreet's remotes ask (open311-adapter): its id, and a link back to the report.
    server_set = {"variable": True, "required": True, "automated": "server_set"}
    definition = {
        "service_code": "NDP",
        "attributes": [
            {**server_set, "code": "fixmystreet_id", "datatype": "string", "order": 1},
            {**server_set, "code": "report_url", "datatype": "string", "order": 2},
        ],
    }
    stand_in.serve_services([POTHOLE_SERVICE])
    stand_in.serve("GET", "services/NDP.json", definition)
    road = connect(client, demo_city, stand_in.base_url, "key", "issy")
    fetch_services(client, road)
    ours = category(demo_city, "pothole")
    map_category(client, fresh_department(road.id), "pothole", "NDP")
    page = text(client.get(f"/staff/admin/departments/{road.id}/open311"))
    assert "The report's reference" in page and "The report's public address" in page
    answer = post(
        client, f"/staff/admin/departments/{road.id}/open311", {f"service-{ours.id}": "NDP"}
    )
    assert answer.status_code == 422 and "requires fixmystreet_id" in text(answer)
    fields = {"fixmystreet_id": "report:reference", "report_url": "report:url"}
    fields = {f"attr-{ours.id}-{code}": value for code, value in fields.items()}
    answer = post(
        client,
        f"/staff/admin/departments/{road.id}/open311",
        {f"service-{ours.id}": "NDP", **fields},
    )
    assert answer.status_code == 302

    stand_in.accept("R-13")
    report = pothole(demo_city)
    assert deliver().sent == 1
    [call] = stand_in.asked("POST", "requests.json")
    assert call.form["attribute[fixmystreet_id]"] == [report.reference]
    [url] = call.form["attribute[report_url]"]
    assert url == f"{app.config['BASE_URL']}/reports/{report.reference}"
    assert report.reference in text(client.get(url))  # the public page
