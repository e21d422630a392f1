"""The two remotes the Open311 client's tests talk to answer as Open311 systems do."""

from tests.open311.helpers import POTHOLE
from tests.open311_client.remotes import get_json, post_form


def test_the_second_instance_serves_open311_and_takes_requests_with_its_key(remote):
    services = get_json(f"{remote.base_url}/services.json?jurisdiction_id={remote.jurisdiction}")
    assert "pothole" in {service["service_code"] for service in services}

    status, refused = post_form(f"{remote.base_url}/requests.json", POTHOLE)
    assert status == 403 and refused[0]["code"] == 403
    fields = {**POTHOLE, "api_key": remote.api_key, "jurisdiction_id": remote.jurisdiction}
    status, created = post_form(f"{remote.base_url}/requests.json", fields)
    assert status in (200, 201), created
    service_request_id = created[0]["service_request_id"]

    remote.set_status(service_request_id, "acknowledged")
    remote.reply(service_request_id, "Une équipe passe jeudi.")
    (request,) = get_json(f"{remote.base_url}/requests/{service_request_id}.json")
    assert request["status"] == "open"
    updates = get_json(f"{remote.base_url}/servicerequestupdates.json")
    texts = [update["description"] for update in updates]
    assert "Une équipe passe jeudi." in texts


def test_the_stand_in_answers_what_it_is_told(stand_in):
    stand_in.serve_services([{"service_code": "pothole", "service_name": "Pothole"}])
    assert get_json(f"{stand_in.base_url}/services.json")[0]["service_code"] == "pothole"
    stand_in.refuse_missing_attribute("size")
    status, errors = post_form(f"{stand_in.base_url}/requests.json", {"service_code": "x"})
    assert status == 400 and "attribute[size]" in errors[0]["description"]
    stand_in.failing = 500
    assert post_form(f"{stand_in.base_url}/requests.json", {})[0] == 500
    assert stand_in.asked("POST", "requests.json")[0].form == {"service_code": ["x"]}
