"""What a reporter gives when posting through Open311 — name, email, phone, and contact details
typed into the text — never comes out of any Open311 read, in JSON or XML."""

import io

from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.reports import services
from tellcity.reports.lifecycle import transition
from tellcity.reports.queries import report_by_reference
from tests.open311.helpers import POTHOLE, json_of, new_key, post
from tests.photos.images import ARTIST, SERIAL, camera_photo

PRIVATE = {
    "first_name": "Zoé",
    "last_name": "Secretname",
    "email": "zoe.secret@example.org",
    "phone": "+33 6 99 88 77 66",
    "device_id": "device-secret-42",
    "account_id": "account-secret-43",
    "media_url": "https://private.example.org/secret-photo.jpg",
}
LEAKS = (
    "Secretname",
    "zoe.secret",
    "99 88 77 66",
    "0699887766",
    "device-secret",
    "account-secret",
    "private.example.org",
    "other.person@example.org",
    "07 11 22 33 44",
    ARTIST,
    SERIAL,
    "/track/",
)


def test_no_open311_read_shows_the_reporters_details(client, demo_city, staff):
    data = {
        **POTHOLE,
        **PRIVATE,
        "description": "Trou énorme. Rappelez-moi au 0699887766 ou other.person@example.org",
        "media": (io.BytesIO(camera_photo()), "photo.jpg"),
    }
    [created] = json_of(post(client, new_key(), data=data, content_type="multipart/form-data"))
    reference = created["service_request_id"]
    report = report_by_reference(reference)
    assert report.reporter_email == PRIVATE["email"]  # kept for the staff
    agent = Actor.of(staff["agent.voirie"])
    transition(report, "acknowledged", agent, text="Vu. Le riverain (07 11 22 33 44) confirme.")
    services.reply(report, "Merci, écrivez à zoe.secret@example.org", agent)
    db.session.commit()

    urls = [
        f"/open311/v2/requests.{{}}?extensions=true&service_request_id={reference}",
        "/open311/v2/requests.{}",
        f"/open311/v2/requests/{reference}.{{}}?extensions=true",
        f"/open311/v2/tokens/{reference}.{{}}",
        "/open311/v2/servicerequestupdates.{}",
    ]
    seen = []
    for url in urls:
        for fmt in ("json", "xml"):
            response = client.get(url.format(fmt), headers={"Accept-Language": "en"})
            assert response.status_code == 200, url
            text = response.get_data(as_text=True)
            seen.append(text)
            for private in LEAKS:
                assert private not in text, (url.format(fmt), private)
    everything = "\n".join(seen)
    assert "[phone hidden]" in everything and "[email hidden]" in everything
    assert reference in everything and "/media/" in everything
    # The photo served is the cleaned one: no camera metadata.
    photo = client.get(f"/media/{report.photos[0].storage_key}")
    assert ARTIST.encode() not in photo.data and SERIAL.encode() not in photo.data
    photo.close()
