"""One public timeline: a report's page, /api/v1 and Open311 (its notes, and its updates feed)
show the same events in the same order, and never a private one."""

import re

import pytest

from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.photos.services import process_upload
from tellcity.reports import services
from tellcity.reports.lifecycle import transition
from tellcity.staff import services as staff_services
from tests.photos.images import camera_photo
from tests.reports.helpers import department, submit

ENGLISH = {"Accept-Language": "en"}
#: What the report's page says for each type of event.
PAGE_LABELS = {
    "status_change": "Status: ",
    "public_reply": "The department answered",
    "comment": "The reporter added a comment",
    "photo_added": "A photo was added",
    "confirmation": "The reporter confirmed the fix",
    "merge": "Merged with a similar report",
    "reopen": "Reopened: ",
}
#: Events whose label names the status they moved the report to.
MOVES = ("status_change", "reopen")


@pytest.fixture
def lived(demo_city, staff):
    """A pothole with a full life: public moves, replies, a comment, a photo and a merge, and
    private notes, a hidden comment, a reporter's reopening, moderation, edits, a transfer."""
    report, other = submit(demo_city), submit(demo_city)
    agent, manager = Actor.of(staff["agent.voirie"]), Actor.of(staff["chef.voirie"])
    reporter = Actor.reporter(report)
    transition(report, "acknowledged", agent, text="Seen by the roads team")
    services.add_note(report, "PRIVATE note", agent)
    services.reply(report, "First answer", agent)
    rude = services.add_comment(report, "PRIVATE rude comment", reporter)
    staff_services.hide_event(rude, agent, "PRIVATE moderation")
    services.add_comment(report, "Thanks for the answer", reporter)
    services.add_photos(report, [process_upload(camera_photo())], agent)
    staff_services.merge(report, [other], agent)
    services.set_priority(report, 1, agent)
    services.assign(report, staff["agent.voirie"], agent)
    staff_services.edit_description(report, "A deep hole", agent, "PRIVATE edit")
    transition(report, "resolved", agent, text="Filled in")
    transition(report, "acknowledged", reporter, text="PRIVATE reopening by the reporter")
    transition(report, "resolved", agent, text="Filled in again")
    services.confirm_fix(report, reporter)
    transition(report, "acknowledged", manager, text="Reopened by the manager")
    services.transfer(report, department(demo_city, "proprete"), manager, "PRIVATE transfer")
    db.session.commit()
    return report


def page_timeline(client, reference: str) -> list[tuple[str, str | None]]:
    """(label, text) of each entry of the report page's timeline, after "Report received"."""
    page = client.get(f"/reports/{reference}", headers=ENGLISH).get_data(as_text=True)
    [timeline] = re.findall(r'<ol class="timeline">(.*?)</ol>', page, re.S)
    entries = re.findall(r"<li>(.*?)</li>", timeline, re.S)[1:]
    found = []
    for entry in entries:
        label = re.sub(r"<time>.*?</time>|<blockquote>.*?</blockquote>", "", entry, flags=re.S)
        quote = re.search(r"<blockquote>(.*?)</blockquote>", entry, re.S)
        found.append((label.strip(), quote.group(1) if quote else None))
    return found


def test_every_front_end_shows_the_same_public_events_in_the_same_order(client, lived):
    reference = lived.reference
    # Each in the reader's language: a merge's note is said in English to all of them.
    api = client.get(f"/api/v1/reports/{reference}", headers=ENGLISH).get_json()["timeline"]
    [request] = client.get(
        f"/open311/v2/requests/{reference}.json?extensions=true", headers=ENGLISH
    ).get_json()
    updates = client.get("/open311/v2/servicerequestupdates.json", headers=ENGLISH).get_json()

    events = [(entry["type"], entry["text"] or None) for entry in api]
    assert [kind for kind, _text in events] == [
        "status_change",
        "public_reply",
        "comment",
        "photo_added",
        "merge",
        "status_change",
        "reopen",  # by the reporter: the reopening shows, their words do not
        "status_change",
        "confirmation",
        "reopen",
    ]
    assert [(note["type"], note["description"]) for note in request["notes"]] == events
    mine = [update for update in updates if update["service_request_id"] == reference]
    assert [update["description"] or None for update in mine] == [text for _kind, text in events]
    assert page_timeline(client, reference) == [
        (PAGE_LABELS[kind] + (entry["status"] if kind in MOVES else ""), text)
        for (kind, text), entry in zip(events, api, strict=True)
    ]


def test_no_front_end_shows_a_private_or_hidden_event(client, lived):
    reference = lived.reference
    for url in (
        f"/reports/{reference}",
        f"/api/v1/reports/{reference}",
        f"/open311/v2/requests/{reference}.json?extensions=true",
        f"/open311/v2/requests/{reference}.xml?extensions=true",
        "/open311/v2/servicerequestupdates.json",
    ):
        assert "PRIVATE" not in client.get(url).get_data(as_text=True), url
