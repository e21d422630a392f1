"""An Open311 client posting service requests: they go through the same submission as the web
form (validation, routing, SLA, notifications) and answer with the new request's id."""

import io

import pytest
import sqlalchemy as sa

from tellcity.extensions import db
from tellcity.notify.models import OutboxMessage
from tellcity.reports.models import Photo, Report
from tellcity.reports.submission import MEDIA_URL_KEY
from tests.geo.ban_server import PARIS, TOWN_HALL
from tests.open311.helpers import POTHOLE, children, json_of, new_key, post, xml_of
from tests.photos.images import camera_photo
from tests.reports.helpers import EIFFEL_TOWER, category


def reports() -> list[Report]:
    db.session.expire_all()
    return db.session.scalars(sa.select(Report).order_by(Report.id)).all()


def the_report() -> Report:
    [report] = reports()
    return report


def test_a_request_is_routed_and_answered_with_its_id(client, demo_city):
    key = new_key()
    created = json_of(post(client, key, data={**POTHOLE, "email": "zoe@example.org"}))
    report = the_report()
    assert created == [
        {"service_request_id": report.reference, "service_notice": None, "account_id": None}
    ]
    assert report.source == "open311" and report.status == "new"
    assert report.department.slug == "voirie" and report.zone.slug == "centre-ville"
    assert report.due_at is not None  # the category's SLA
    assert report.reporter_email == "zoe@example.org"
    assert report.events[0].actor_label == "API key Appli test"
    queued = db.session.execute(
        sa.select(OutboxMessage.recipient, OutboxMessage.report_id).order_by(OutboxMessage.id)
    ).all()
    # The department is told, and the resident gets their acknowledgement, as for the web form.
    assert queued == [("voirie@issy.example.org", report.id), ("zoe@example.org", report.id)]


def test_a_request_in_xml(client, demo_city):
    root = xml_of(post(client, new_key(), "xml"))
    assert root.tag == "service_requests"
    [request] = root.findall("request")
    assert set(children(request)) == {"service_request_id", "service_notice", "account_id"}
    assert request.findtext("service_request_id") == the_report().reference
    assert "token" not in children(request)  # never both a token and an id


def test_the_token_of_a_request_is_its_id(client, demo_city):
    [created] = json_of(post(client, new_key()))
    reference = created["service_request_id"]
    assert json_of(client.get(f"/open311/v2/tokens/{reference}.json")) == [
        {"token": reference, "service_request_id": reference}
    ]
    root = xml_of(client.get(f"/open311/v2/tokens/{reference}.xml"))
    assert children(root.find("request")) == {"token": reference, "service_request_id": reference}
    errors = json_of(client.get("/open311/v2/tokens/ISS-1999-000001.json"), 404)
    assert errors == [{"code": 404, "description": "token ISS-1999-000001 not found"}]


def test_the_reporters_contact_is_kept_for_staff(client, demo_city):
    data = {
        **POTHOLE,
        "first_name": "Zoé",
        "last_name": "Martin",
        "email": "Zoe.Martin@Example.org",
        "phone": "+33 6 12 34 56 78",
        "device_id": "tt222111",
        "account_id": "123456",
        "media_url": "https://photos.example.org/p/1.jpg",
    }
    json_of(post(client, new_key(), data=data))
    report = the_report()
    assert report.reporter_name == "Zoé Martin"
    assert report.reporter_email == "zoe.martin@example.org"
    assert report.reporter_phone == "+33 6 12 34 56 78"
    # The client's media_url is kept for the staff, never fetched; device and account ids of
    # another system are not kept at all.
    assert report.attributes == {MEDIA_URL_KEY: "https://photos.example.org/p/1.jpg"}


def test_answers_to_a_list_question(client, demo_city):
    data = {**POTHOLE, "service_code": "illegal-dumping", "attribute[waste_type]": "rubble"}
    json_of(post(client, new_key(), data=data))
    assert the_report().attributes == {"waste_type": "rubble"}


@pytest.fixture
def multiple_choice(demo_city):
    """Potholes get a question with several answers, and two more."""
    category(demo_city, "pothole").attributes = [
        {
            "code": "hazards",
            "datatype": "multivaluelist",
            "values": [{"key": "cars"}, {"key": "bikes"}, {"key": "walkers"}],
        },
        {"code": "depth", "datatype": "number"},
        {"code": "seen", "datatype": "datetime"},
    ]
    db.session.commit()


@pytest.mark.parametrize("name", ["attribute[hazards][]", "attribute[hazards]"])
def test_several_answers_in_either_form(client, demo_city, multiple_choice, name):
    data = {**POTHOLE, name: ["cars", "bikes"], "attribute[depth]": "12.5"}
    json_of(post(client, new_key(), data=data))
    assert the_report().attributes == {"hazards": ["cars", "bikes"], "depth": 12.5}


def test_both_forms_at_once_add_up(client, demo_city, multiple_choice):
    data = {
        **POTHOLE,
        "attribute[hazards][]": ["cars"],
        "attribute[hazards]": "walkers",
        "attribute[seen]": "2026-03-01T08:30:00+01:00",
    }
    json_of(post(client, new_key(), data=data))
    attributes = the_report().attributes
    assert sorted(attributes["hazards"]) == ["cars", "walkers"]
    assert attributes["seen"] == "2026-03-01T08:30:00+01:00"


@pytest.mark.parametrize(
    ("answers", "message", "code"),
    [
        ({}, "attribute[waste_type]: Une réponse est requise.", "answer_required"),
        (
            {"attribute[waste_type]": "piano"},
            "attribute[waste_type]: L'une de : bulky, rubble",
            "answer_not_offered",
        ),
        (
            {"attribute[waste_type]": ["bulky", "bags"]},
            "attribute[waste_type]: Une seule valeur.",
            "invalid_answer",
        ),
        (
            {"attribute[waste_type]": "bulky", "attribute[colour]": "red"},
            "attribute[colour]",
            "unknown_question",
        ),
    ],
)
def test_wrong_answers_are_400s_naming_the_attribute(client, demo_city, answers, message, code):
    data = {**POTHOLE, "service_code": "illegal-dumping", **answers}
    [error] = json_of(post(client, new_key(), data=data), 400)
    assert error["code"] == 400 and error["description"].startswith(message)
    assert error["error_code"] == code
    assert reports() == []


def test_a_number_question_wants_a_number(client, demo_city, multiple_choice):
    data = {**POTHOLE, "attribute[depth]": "deep"}
    [error] = json_of(post(client, new_key(), data=data), 400)
    assert error["description"] == "attribute[depth]: Un nombre."
    assert error["error_code"] == "invalid_answer"


def test_html_in_a_description_is_stripped_to_its_text(client, demo_city):
    description = (
        "<p>Un <b>gros</b> trou &amp; des gravats</p><script>alert('x')</script>"
        "<br>devant le n°3 &lt;rue&gt;"
    )
    json_of(post(client, new_key(), data={**POTHOLE, "description": description}))
    assert the_report().description == "Un gros trou & des gravats\n\ndevant le n°3 <rue>"


def test_text_without_markup_is_kept_as_it_is(client, demo_city):
    description = "Trou < 1 m, profondeur > 10 cm & eau\nligne 2"
    json_of(post(client, new_key(), data={**POTHOLE, "description": description}))
    assert the_report().description == description


def test_a_description_is_at_most_4000_characters(client, demo_city):
    key = new_key()
    [error] = json_of(post(client, key, data={**POTHOLE, "description": "x" * 4001}), 400)
    assert error["description"] == "description: La description dépasse 4000 caractères."
    assert error["error_code"] == "too_long"
    # what counts is the text, once any HTML is gone
    padded = "<b>" + "x" * 4000 + "</b>"
    json_of(post(client, key, data={**POTHOLE, "description": padded}))
    assert the_report().description == "x" * 4000


def test_an_address_string_is_geocoded_in_the_city(client, demo_city, ban):
    ban.found = [PARIS, TOWN_HALL]  # the geocoder's first answer is outside the city
    data = {"service_code": "pothole", "address_string": "62 rue du Général Leclerc"}
    json_of(post(client, new_key(), data={**data, "description": "Trou"}))
    report = the_report()
    assert (report.lat, report.lon) == (TOWN_HALL.lat, TOWN_HALL.lon)
    assert report.address == TOWN_HALL.label
    assert "Issy-les-Moulineaux" in ban.requests[0][1]["q"]


def test_lat_and_long_win_over_an_address_string(client, demo_city, ban):
    data = {**POTHOLE, "address_string": "Devant la mairie"}
    json_of(post(client, new_key(), data=data))
    report = the_report()
    assert report.address == "Devant la mairie" and report.lat == float(POTHOLE["lat"])
    assert ban.requests == []


def test_an_address_that_cannot_be_found(client, demo_city, ban):
    data = {"service_code": "pothole", "address_string": "1 rue de Nulle Part", "description": "x"}
    [error] = json_of(post(client, new_key(), data=data), 400)
    assert error["description"] == (
        "address_string: Nous n'avons pas trouvé cette adresse à Issy-les-Moulineaux."
    )
    assert error["error_code"] == "address_not_found"


def test_an_address_while_the_geocoder_is_down(client, demo_city, ban_down):
    data = {"service_code": "pothole", "address_string": "1 rue de la Paix", "description": "x"}
    [error] = json_of(post(client, new_key(), data=data), 400)
    assert error["description"].startswith(
        "address_string: La recherche d'adresse n'est pas disponible"
    )
    assert error["error_code"] == "geocoder_unavailable"


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ({}, "lat/long: Indiquez où se trouve le problème."),
        ({"lat": "48.82"}, "long: lat and long go together"),
        ({"lat": "", "long": "", "address_string": ""}, "lat/long: Indiquez où se trouve"),
        ({"address_id": "92040_3620_00062"}, "address_id: address_id is not known here"),
        ({"lat": "north", "long": "2.27"}, "lat: Not a valid number."),
        ({"lat": "95", "long": "2.27"}, "lat/long: Cette position n'existe pas sur Terre."),
        ({"lat": "nan", "long": "2.27"}, "lat: Special numeric values (nan or infinity)"),
    ],
)
def test_a_location_is_required(client, demo_city, location, message):
    data = {"service_code": "pothole", "description": "Trou", **location}
    errors = json_of(post(client, new_key(), data=data), 400)
    assert any(error["description"].startswith(message) for error in errors), errors


def test_outside_the_city_is_refused_with_the_reason(client, demo_city):
    data = {**POTHOLE, "lat": str(EIFFEL_TOWER[0]), "long": str(EIFFEL_TOWER[1])}
    [error] = json_of(post(client, new_key(), data=data), 400)
    assert (
        error["description"].startswith("lat/long: ")
        and "Issy-les-Moulineaux" in error["description"]
    )
    assert reports() == []


def test_the_domains_checks_apply(client, demo_city):
    key = new_key()
    [error] = json_of(post(client, key, data={**POTHOLE, "email": "not-an-address"}), 400)
    assert error["description"].startswith("email: ")
    [error] = json_of(post(client, key, data={**POTHOLE, "description": ""}), 400)
    assert error["description"].startswith("description: ")
    errors = json_of(post(client, key, data={"lat": "48.8", "long": "2.27"}), 400)
    assert errors == [
        {"code": 400, "description": "service_code: Missing data for required field."}
    ]
    [error] = json_of(post(client, key, data={**POTHOLE, "service_code": "nope"}), 404)
    assert error == {
        "code": 404,
        "description": "service_code: Cette catégorie n'est pas proposée ici.",
        "error_code": "unknown_category",
    }


def test_a_photo_named_media_in_a_multipart_request(client, demo_city):
    data = {**POTHOLE, "media": (io.BytesIO(camera_photo()), "photo.jpg", "image/jpeg")}
    response = post(client, new_key(), data=data, content_type="multipart/form-data")
    [created] = json_of(response)
    [photo] = db.session.scalars(sa.select(Photo)).all()
    assert photo.content_type == "image/jpeg"
    [shown] = json_of(client.get(f"/open311/v2/requests/{created['service_request_id']}.json"))
    assert shown["media_url"] == f"http://localhost/media/{photo.storage_key}"
    image = client.get(shown["media_url"])
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/jpeg"
    image.close()


def test_at_most_three_photos(client, demo_city):
    media = [(io.BytesIO(camera_photo()), f"{n}.jpg") for n in range(4)]
    response = post(client, new_key(), data={**POTHOLE, "media": media})
    assert json_of(response, 400) == [
        {"code": 400, "description": "media: 3 photos au plus.", "error_code": "too_many_photos"}
    ]
    assert reports() == []


def test_a_file_that_is_not_a_photo_is_refused(client, demo_city):
    data = {**POTHOLE, "media": (io.BytesIO(b"%PDF-1.4 not a photo"), "photo.jpg")}
    response = post(client, new_key(), "xml", data=data, content_type="multipart/form-data")
    root = xml_of(response, 400)
    assert root.findtext("error/description").startswith("media: ")
    assert reports() == []


def test_jurisdiction_and_key_may_come_in_the_query_string(client, demo_city):
    key = new_key()
    url = f"/open311/v2/requests.json?api_key={key}&jurisdiction_id=issy-les-moulineaux"
    json_of(client.post(url, data={**POTHOLE, "jurisdiction_id": ""}))
    json_of(post(client, key, data={**POTHOLE, "jurisdiction_id": "issy-les-moulineaux"}))
    assert len(reports()) == 2


def test_posting_is_rate_limited_per_key(app, client, demo_city):
    app.config["RATELIMIT_API_KEY"] = "2 per minute"  # a program's budget, not the public's
    key = new_key()
    statuses = [post(client, key).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    root = xml_of(post(client, key, "xml"), 429)
    assert root.findtext("error/code") == "429"


def test_an_idempotency_key_makes_a_retry_answer_the_first_request(client, demo_city):
    key = new_key()
    headers = {"Idempotency-Key": "retry-7"}
    first = post(client, key, headers=headers)
    again = post(client, key, data={**POTHOLE, "description": "retry"}, headers=headers)
    assert first.status_code == again.status_code == 200  # GeoReport v2's answer to a POST
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert json_of(again) == json_of(first)
    assert len(reports()) == 1
    # Another client's key is its own: the same Idempotency-Key files its own request.
    other = post(client, new_key(name="Autre appli"), headers=headers)
    assert "Idempotent-Replayed" not in other.headers
    assert len(reports()) == 2
