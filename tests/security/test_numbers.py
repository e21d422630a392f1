"""No number or token in a request crashes a page. Superscripts and Arabic digits (which
str.isdigit() accepts and int() may not), signs, exponents, hexadecimal, numbers past a
database integer and empty values give a page, an empty or first page, or the right refusal:
never a 5xx, on SQLite as on PostgreSQL (where a number past bigint is a DataError). A
non-ASCII secret in a link is a link that is not valid, not a crash."""

import pytest
import sqlalchemy as sa

from tellcity.accounts.models import User
from tellcity.extensions import db
from tellcity.reports.models import Report
from tellcity.staff.models import ReplyTemplate
from tests.reports.helpers import department, submit
from tests.staff.helpers import flashes, post
from tests.web.helpers import form_tokens

ODD_NUMBERS = [
    "²",
    "٣",
    "\uff11",  # a fullwidth 1
    "-1",
    "+1",
    "1e3",
    "0x10",
    "1_0",
    " 7",
    "9" * 20,
    "9" * 30,
    "",
]
ODD_TOKENS = ["é", "²", "٣", "tökén-ünicode", "🙂", "a" * 32 + "é"]


@pytest.fixture
def crashes_answer(app):
    """A crash answers 500 as in production, rather than failing the test at its first value,
    so that one test lists every value that crashes."""
    app.config["PROPAGATE_EXCEPTIONS"] = False


def statuses(client, method: str, urls, **kwargs) -> dict:
    """The status of each URL, for those that crash (5xx) or answer other than expected."""
    return {url: client.open(url, method=method, **kwargs).status_code for url in urls}


def crashed(found: dict) -> dict:
    return {url: status for url, status in found.items() if status >= 500}


# --- Public pages --------------------------------------------------------------------------------


@pytest.mark.usefixtures("crashes_answer")
def test_any_page_number_shows_a_page_of_ideas(client, demo_city):
    submit(demo_city, "idea-mobility", at=None, description="Des bancs au parc")
    db.session.commit()
    pages = [*ODD_NUMBERS, "999999999999999999999999", "123456789012", "0"]
    found = statuses(client, "GET", [f"/ideas?page={page}" for page in pages])
    assert found == dict.fromkeys(found, 200)


@pytest.mark.usefixtures("crashes_answer")
def test_a_page_far_past_the_end_is_empty_not_a_crash(client, demo_city):
    submit(demo_city, "idea-mobility", at=None, description="Des bancs au parc")
    db.session.commit()
    page = client.get("/ideas?page=999999999999999999999999")
    assert page.status_code == 200
    assert "Des bancs au parc" in client.get("/ideas?page=1").get_data(as_text=True)


@pytest.fixture
def report(demo_city) -> Report:
    report = submit(demo_city)
    db.session.commit()
    return report


@pytest.mark.usefixtures("crashes_answer")
def test_a_tracking_link_with_non_ascii_characters_is_not_found(client, report):
    csrf = form_tokens(client, "/report")["csrf_token"]
    base = f"/track/{report.reference}"
    found = statuses(client, "GET", [f"{base}/{token}" for token in ODD_TOKENS])
    actions = ("comment", "follow", "unfollow", "notifications", "photo")
    urls = [f"{base}/{token}/{action}" for token in ODD_TOKENS for action in actions]
    found |= statuses(client, "POST", urls, data={"csrf_token": csrf, "comment": "Bonjour"})
    assert found == dict.fromkeys(found, 404)


@pytest.mark.usefixtures("crashes_answer")
def test_reporter_and_follower_links_with_non_ascii_tokens_are_refused(client, report):
    reference = report.reference
    confirm = [
        f"/reports/{reference}/{act}?token={t}" for act in ("confirm", "reopen") for t in ODD_TOKENS
    ]
    assert crashed(statuses(client, "GET", confirm)) == {}
    assert set(statuses(client, "GET", confirm).values()) == {403}
    unsubscribe = [f"/reports/{reference}/unsubscribe/{token}" for token in ODD_TOKENS]
    subscriptions = [
        f"/subscriptions/{token}/{action}"
        for token in ODD_TOKENS
        for action in ("confirm", "unsubscribe")
    ]
    found = statuses(client, "GET", unsubscribe + subscriptions)
    assert found == dict.fromkeys(found, 404)


@pytest.mark.usefixtures("crashes_answer")
def test_an_api_key_with_non_ascii_characters_is_refused(client, demo_city):
    for key in ["0123456789ab.é", "é" * 12 + ".secret", "²" * 12 + ".٣", "0123456789ab." + "🙂"]:
        open311 = client.post(
            "/open311/v2/requests.json",
            data={"api_key": key, "service_code": "pothole", "lat": "48.8245", "long": "2.2735"},
        )
        assert open311.status_code == 403, key
        latin1 = key.encode("utf-8").decode("latin-1")  # what a header can carry
        stats = client.get("/api/v1/stats", headers={"Authorization": f"Bearer {latin1}"})
        assert stats.status_code == 401, key


@pytest.mark.usefixtures("crashes_answer")
def test_odd_numbers_in_the_public_api_are_refused_or_ignored(client, demo_city):
    """A distance that is no number is the default one; a map box or a position that is no
    number, or not a finite one, is refused."""
    odd = [*ODD_NUMBERS, "nan", "inf", "-inf", "1e999"]
    numbers = {"-1", "1e3", "9" * 20, "9" * 30}  # "+1" in a query string is " 1"
    near = "/api/v1/reports/nearby?lat=48.8245&lon=2.2735&radius_m="
    found = statuses(client, "GET", [near + value for value in odd])
    assert found == dict.fromkeys(found, 200)
    boxes = {f"/reports/markers.json?bbox={v},{v},{v},{v}": v in numbers for v in odd}
    found = statuses(client, "GET", boxes)
    assert found == {url: 200 if number else 400 for url, number in boxes.items()}
    positions = {f"/api/v1/geocode/reverse?lat={v}&lon=2.2735": v == "-1" for v in odd}
    found = statuses(client, "GET", [url for url, valid in positions.items() if not valid])
    assert found == dict.fromkeys(found, 400)


# --- Staff: the queue, ticket actions, bulk actions ---------------------------------------------


@pytest.mark.parametrize("who", ["agent.voirie", "admin"])
@pytest.mark.usefixtures("crashes_answer")
def test_odd_numbers_in_the_queue_filters_show_the_queue(client, login_as, report, who):
    login_as(who)
    urls = [
        f"{page}?{name}={value}"
        for page in ("/staff/", "/staff/map", "/staff/export.csv")
        for name in ("priority", "department", "assignee")
        for value in ODD_NUMBERS
    ]
    found = statuses(client, "GET", urls)
    assert found == dict.fromkeys(found, 200)


@pytest.mark.usefixtures("crashes_answer")
def test_a_filter_that_is_not_a_number_filters_nothing(client, login_as, report):
    login_as("chef.voirie")
    for value in ("²", "9" * 20):
        page = client.get(f"/staff/?priority={value}&department={value}&assignee={value}")
        assert report.reference in page.get_data(as_text=True), value


def fresh(reference: str) -> Report:
    db.session.expire_all()
    return db.session.scalar(sa.select(Report).where(Report.reference == reference))


@pytest.mark.usefixtures("crashes_answer")
def test_odd_numbers_in_ticket_actions_are_refused_and_change_nothing(
    client, login_as, report, demo_city
):
    login_as("chef.voirie")
    reference, ticket = report.reference, f"/staff/tickets/{report.reference}"
    for value in [v for v in ODD_NUMBERS if v]:
        for action, field in [
            ("assign", "assignee"),
            ("priority", "priority"),
            ("transfer", "department"),
        ]:
            response = post(client, f"{ticket}/{action}", **{field: value})
            assert response.status_code == 302, (action, value, response.status_code)
            assert flashes(client), (action, value)  # the refusal is said on the ticket
        response = post(
            client, f"{ticket}/status", to="referred", referred_to=value, template=value
        )
        assert response.status_code == 302, ("status", value, response.status_code)
    for value in [*ODD_NUMBERS, "nan", "inf", "-inf", "1e999"]:
        response = post(client, f"{ticket}/correct", lat=value, lon=value)
        assert response.status_code == 302, ("correct", value, response.status_code)
    after = fresh(reference)
    assert (after.assignee_id, after.priority, after.status) == (None, report.priority, "new")
    assert (after.lat, after.lon) == (report.lat, report.lon)
    assert after.department_id == department(demo_city, "voirie").id


@pytest.mark.usefixtures("crashes_answer")
def test_odd_ids_in_a_ticket_s_urls_are_not_found(client, login_as, report):
    login_as("agent.voirie")
    template = ReplyTemplate(city_id=report.city_id, title="Réparé", body="C'est réparé.")
    db.session.add(template)
    db.session.commit()
    ticket = f"/staff/tickets/{report.reference}"
    assert client.get(f"{ticket}/templates/{template.id}").status_code == 200
    odd = [v for v in ODD_NUMBERS if v.strip()]
    found = statuses(client, "GET", [f"{ticket}/templates/{value}" for value in odd])
    csrf = form_tokens(client, "/report")["csrf_token"]
    urls = [f"{ticket}/events/{value}/visibility" for value in odd]
    found |= statuses(client, "POST", urls, data={"csrf_token": csrf, "public": "0"})
    assert found == dict.fromkeys(found, 404)


@pytest.mark.usefixtures("crashes_answer")
def test_odd_numbers_in_bulk_actions_are_refused_and_change_nothing(client, login_as, report):
    login_as("chef.voirie")
    for value in [v for v in ODD_NUMBERS if v]:
        for action, field in [("assign", "assignee"), ("transfer", "department")]:
            data = {"action": action, "ticket": report.reference, field: value}
            response = post(client, "/staff/bulk", **data)
            assert response.status_code == 302, (action, value, response.status_code)
    after = fresh(report.reference)
    assert (after.assignee_id, after.department_id) == (None, report.department_id)


# --- Statistics and administration --------------------------------------------------------------


@pytest.mark.usefixtures("crashes_answer")
def test_odd_numbers_in_the_statistics_filters_are_refused(client, login_as, demo_city):
    login_as("cabinet")
    odd = [v for v in ODD_NUMBERS if v.strip()]
    urls = [
        f"{page}?{name}={value}"
        for page in ("/staff/stats/", "/staff/stats/export/categories.csv", "/api/v1/stats")
        for name in ("department", "category", "zone")
        for value in odd
    ]
    urls += [f"/staff/stats/monthly?month={value}-01" for value in odd]
    urls += [f"/staff/stats/monthly?month=2026-{value}" for value in odd]
    found = statuses(client, "GET", urls)
    assert found == dict.fromkeys(found, 422)
    found = statuses(client, "GET", [f"/staff/stats/departments/{value}" for value in odd])
    assert found == dict.fromkeys(found, 404)


@pytest.mark.usefixtures("crashes_answer")
def test_odd_numbers_in_the_audit_log_show_the_log(client, login_as, demo_city):
    login_as("admin")
    found = statuses(
        client, "GET", [f"/staff/admin/audit?entity=category&id={v}" for v in ODD_NUMBERS]
    )
    assert found == dict.fromkeys(found, 200)


ADMIN_ITEMS = ("departments", "categories", "zones", "users", "reply-templates")


@pytest.mark.usefixtures("crashes_answer")
def test_odd_ids_in_the_administration_s_urls_are_not_found(client, login_as, demo_city):
    login_as("admin")
    odd = [v for v in ODD_NUMBERS if v.strip()]
    found = statuses(
        client, "GET", [f"/staff/admin/{item}/{v}" for item in ADMIN_ITEMS for v in odd]
    )
    csrf = form_tokens(client, "/staff/admin/reply-templates/new")["csrf_token"]
    urls = [
        f"/staff/admin/{item}/{v}/delete" for item in ADMIN_ITEMS if item != "users" for v in odd
    ]
    urls += [f"/staff/admin/rules/{v}/{action}" for v in odd for action in ("move", "delete")]
    urls += [f"/staff/admin/api-keys/{v}/revoke" for v in odd]
    found |= statuses(client, "POST", urls, data={"csrf_token": csrf, "direction": "up"})
    assert found == dict.fromkeys(found, 404)


@pytest.mark.usefixtures("crashes_answer")
def test_odd_numbers_in_the_administration_s_forms_are_refused(client, login_as, demo_city):
    login_as("admin")
    zone = client.get("/staff/admin/zones").get_data(as_text=True)
    zone_url = next(
        url for url in __import__("re").findall(r'href="(/staff/admin/zones/\d+)"', zone)
    )
    csrf = form_tokens(client, "/staff/admin/reply-templates/new")["csrf_token"]
    for value in [v for v in ODD_NUMBERS if v.strip()]:
        forms = {
            zone_url: {"name": "Centre", "population": value},
            "/staff/admin/rules/new": {
                "category_id": value,
                "zone_id": value,
                "department_id": value,
            },
            "/staff/admin/users/new": {
                "email": "n@example.org",
                "role": "agent",
                "department_id": value,
            },
            "/staff/admin/categories/new": {"code": "x", "name_fr": "X", "department_id": value},
        }
        for url, data in forms.items():
            response = client.post(url, data={"csrf_token": csrf, **data})
            assert response.status_code < 500, (url, value, response.status_code)
        test = client.get(f"/staff/admin/rules/test?category_id={value}&lat={value}&lon={value}")
        assert test.status_code < 500, (value, test.status_code)
    assert db.session.scalar(sa.select(User).where(User.email == "n@example.org")) is None
