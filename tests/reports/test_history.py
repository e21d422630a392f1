"""A report's history is said in the reader's language: every kind of event gives a sentence in
French and in English, with names and labels rather than codes, and the staff ticket shows a
full history without a word of the other language."""

import re
from datetime import UTC, datetime

import pytest
from flask_babel import force_locale

from tellcity.core.i18n import datetime_local
from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.photos.services import process_upload
from tellcity.reports import services
from tellcity.reports.events import record
from tellcity.reports.history import actor_name, describe, system_note, told_text
from tellcity.reports.lifecycle import transition
from tellcity.reports.states import EventType
from tellcity.sla.services import ESCALATOR
from tellcity.staff import services as staff_services
from tests.photos.images import camera_photo
from tests.reports.helpers import category, department, submit

DUE = datetime(2026, 12, 4, 13, 0, tzinfo=UTC)
ESCALATION_DATA = {
    "message": "escalation",
    "due_at": DUE.isoformat(),
    "contacts": ["chef.voirie@issy.example.org", "Marc Durand"],
    "via": "managers",
}
#: Words of the English sentences (and the codes) that a French reader must never see.
ENGLISH = re.compile(
    r"\b(Routed|Received|routed|Overdue|escalated|Escalated|Status|changed|Assigned|assigned"
    r"|Transferred|Rerouted|Priority|Merged|merged|added|Hidden|Shown|edited|moved|confirmed"
    r"|Reopened|default department|rule|any zone|Public reply|Internal note|since|reporter"
    r"|resident|managers|unknown|deleted|Update)\b"
)
CODES = re.compile(
    r"status_change|priority_change|public_reply|internal_note|photo_added|in_progress"
    r"|\bcreated\b|\bescalation\b|\bassignment\b|\bmoderation\b|→|\bpothole\b"
    r"|private_property|(?<![\w.])(voirie|proprete)(?![\w.@])"  # slugs, not in an address
)


@pytest.fixture
def history(demo_city, staff):
    """One report through every kind of event, each written as the application writes it."""
    report, other = submit(demo_city), submit(demo_city)
    agent, manager = Actor.of(staff["agent.voirie"]), Actor.of(staff["chef.voirie"])
    reporter = Actor.reporter(report)
    transition(report, "acknowledged", agent, text="Vu par l'équipe")
    services.set_priority(report, 1, agent)
    services.assign(report, staff["agent.voirie"], agent)
    services.add_note(report, "Note de l'agent", agent)
    services.reply(report, "Réponse de l'agent", agent)
    comment = services.add_comment(report, "Merci", reporter)
    staff_services.hide_event(comment, agent, "Hors sujet")
    staff_services.hide_report(report, agent, "Vérification", hidden=True)
    staff_services.hide_report(report, agent, "Vérifié", hidden=False)
    services.add_photos(report, [process_upload(camera_photo())], agent)
    staff_services.merge(report, [other], agent)
    services.correct(report, agent, category=category(demo_city, "pavement"))
    staff_services.edit_description(report, "Un trou", agent, "Données personnelles")
    record(report, ESCALATOR, EventType.ESCALATION, data=ESCALATION_DATA)
    transition(report, "resolved", agent, text="Rebouché")
    services.confirm_fix(report, reporter)
    transition(report, "acknowledged", manager, text="Encore là")
    services.transfer(report, department(demo_city, "proprete"), manager, "Pour la propreté")
    db.session.commit()
    return report, other


def test_every_kind_of_event_is_said_in_french_and_in_english(history):
    report, other = history
    events = report.events + other.events
    assert {event.type for event in events} == set(EventType)  # every kind is tried
    for event in events:
        with force_locale("en"):
            english = describe(event)
        with force_locale("fr"):
            french = describe(event)
        for sentence in (english, french):
            assert sentence and not CODES.search(sentence), (event.type, sentence)
        assert not ENGLISH.search(french), (event.type, french)
        assert french != english, event.type


def test_names_and_labels_fill_the_sentences(history):
    report, other = history
    said = {}
    for event in report.events:
        with force_locale("fr"):
            said.setdefault(event.type, []).append(describe(event))
    assert said["created"] == [
        "Reçu et orienté vers Voirie et travaux (service par défaut de"
        " « Nid-de-poule, chaussée abîmée »)"
    ]
    assert said["priority_change"] == ["Priorité changée : haute devient urgente"]
    [assignment] = [e for e in report.events if e.type == "assignment"]
    assert said["assignment"] == [f"Attribué à {assignment.actor_label}"]  # took it themselves
    assert "Transféré de Voirie et travaux à Propreté urbaine" in said["transfer"]
    assert said["status_change"][0] == "État changé : nouveau devient pris en compte"
    with force_locale("en"):
        [duplicate] = [e for e in other.events if e.type == "status_change"]
        assert system_note(duplicate) == (
            f"Merged into {report.reference}, which follows the same problem."
        )
        assert describe(duplicate).endswith(f"duplicate of {report.reference}")
        [merge] = [e for e in report.events if e.type == "merge"]
        assert told_text(merge) == f"Merged with {other.reference}"


def test_an_escalation_says_when_it_was_due_and_who_was_told(history):
    report, _other = history
    [escalation] = [e for e in report.events if e.type == "escalation"]
    assert escalation.text == ""
    with force_locale("fr"):
        due = datetime_local(DUE)  # in the city's time zone, as every time shown
        assert describe(escalation) == (
            f"En retard depuis le {due} : remonté à chef.voirie@issy.example.org, Marc Durand"
            " (les responsables du service)"
        )
        assert actor_name(escalation) == "suivi des délais"
    with force_locale("en"):
        assert describe(escalation).startswith(f"Overdue since {datetime_local(DUE)}: escalated")


def test_the_staff_ticket_tells_the_history_in_the_readers_language(client, login_as, history):
    report, _other = history
    login_as("admin")
    client.get("/lang/fr")
    french = client.get(f"/staff/tickets/{report.reference}").get_data(as_text=True)
    assert f"{report.reference} · problème" in french  # the kind and source said, too
    assert "· formulaire web</dd>" in french
    entries = _history_of(french)
    assert "Attribué à" in entries and "Fusionné avec" in entries
    assert "En retard depuis le" in entries and "Transféré de Voirie et travaux" in entries
    assert "Note de l&#39;agent" in entries  # what a person typed, as typed
    assert not ENGLISH.search(entries) and not CODES.search(entries)
    client.get("/lang/en")
    english = _history_of(client.get(f"/staff/tickets/{report.reference}").get_data(as_text=True))
    assert "Priority changed from high to urgent" in english
    assert "Overdue since" in english and "(the department&#39;s managers)" in english
    assert "Reopened: acknowledged" in english and not CODES.search(english)


def _history_of(page: str) -> str:
    """The text of the ticket's history list, without its forms."""
    [timeline] = re.findall(r'<ol class="timeline">(.*?)</ol>', page, re.S)
    return re.sub(r"<form.*?</form>|<[^>]+>", " ", timeline, flags=re.S)


@pytest.mark.parametrize(
    ("stored", "said"),
    [
        (
            {"department": "voirie", "rule_id": None, "reason": "default department of pothole"},
            "service par défaut de « Nid-de-poule, chaussée abîmée »",
        ),
        (
            {"department": "voirie", "rule_id": 3, "reason": "rule #3: illegal-dumping in Rives"},
            "règle n° 3 : « Dépôt sauvage » à Rives",
        ),
        (
            {
                "department": "voirie",
                "rule_id": 4,
                "reason": "rule #4: illegal-dumping in any zone",
            },
            "règle n° 4 : « Dépôt sauvage » dans tous les quartiers",
        ),
        (
            {"department": "gone", "reason": "no rule and no default department: triage"},
            "ni règle ni service par défaut : service d'accueil",
        ),
    ],
)
def test_a_routing_stored_before_migration_0007_is_said_too(demo_city, stored, said):
    """Decisions stored with an English reason, not yet their basis, are read from it."""
    report = submit(demo_city)
    event = record(report, Actor.system("resident"), EventType.CREATED, data={"routing": stored})
    with force_locale("fr"):
        sentence = describe(event)
    assert sentence.endswith(f"({said})")
    department = "un service supprimé depuis" if stored["department"] == "gone" else "Voirie"
    assert sentence.startswith(f"Reçu et orienté vers {department}")


def test_the_apis_give_a_duplicates_note_in_the_requests_language(client, history):
    report, other = history
    url = f"/open311/v2/requests/{other.reference}.json"
    [french] = client.get(url, headers={"Accept-Language": "fr"}).get_json()
    [english] = client.get(url, headers={"Accept-Language": "en"}).get_json()
    assert french["status_notes"] == (
        f"Fusionné dans {report.reference}, qui suit le même problème."
    )
    assert english["status_notes"] == (
        f"Merged into {report.reference}, which follows the same problem."
    )
    api = client.get(f"/api/v1/reports/{other.reference}", headers={"Accept-Language": "en"})
    assert [entry["text"] for entry in api.get_json()["timeline"]] == [english["status_notes"]]
