"""Every ticket action through HTTP, as an agent or a manager does it."""

import sqlalchemy as sa

from tellcity.extensions import db
from tellcity.reports.links import tracking_url
from tellcity.reports.models import Report, ReportEvent, Subscription, Support
from tellcity.reports.queries import report_by_reference
from tellcity.staff.models import ReplyTemplate
from tests.reports.helpers import department, submit
from tests.staff.helpers import flashes, post


def ticket(demo_city, code="pothole", **fields):
    report = submit(demo_city, code, **fields)
    db.session.commit()
    return report.reference


def fresh(reference: str) -> Report:
    db.session.expire_all()
    return report_by_reference(reference)


def act(client, reference, action, **data):
    return post(client, f"/staff/tickets/{reference}/{action}", **data)


def test_acknowledge_start_and_resolve_with_a_template(client, login_as, demo_city):
    reference = ticket(demo_city)
    template = ReplyTemplate(
        city_id=demo_city.id, title="Réparé", body="Le problème {reference} ({category}) est réglé."
    )
    db.session.add(template)
    db.session.commit()
    login_as("agent.voirie")
    page = client.get(f"/staff/tickets/{reference}").get_data(as_text=True)
    assert "jeanne@example.org" in page  # the reporter's contact, for staff
    act(client, reference, "status", to="acknowledged")
    act(client, reference, "status", to="in_progress")
    act(client, reference, "status", to="resolved", template=str(template.id))
    report = fresh(reference)
    assert report.status == "resolved"
    expected = f"Le problème {reference} (Nid-de-poule, chaussée abîmée) est réglé."
    assert report.events[-1].text == expected
    tracking = client.get(tracking_url(report)).get_data(as_text=True)
    assert expected in tracking


def test_resolving_without_a_public_text_is_refused_and_said(client, login_as, demo_city):
    reference = ticket(demo_city)
    login_as("agent.voirie")
    act(client, reference, "status", to="resolved")
    assert fresh(reference).status == "new"
    assert any("réponse publique" in message for message in flashes(client))


def test_closing_as_duplicate_referred_not_actionable_or_rejected(client, login_as, demo_city):
    original, copy, referral, private, spam = (ticket(demo_city) for _ in range(5))
    external = department(demo_city, "idf-mobilites")
    login_as("agent.voirie")
    act(client, copy, "status", to="duplicate", duplicate_of=original)
    act(
        client,
        referral,
        "status",
        to="referred",
        referred_to=str(external.id),
        text="Transmis à Île-de-France Mobilités.",
    )
    act(
        client,
        private,
        "status",
        to="not_actionable",
        reason="private_property",
        text="Voie privée.",
    )
    act(client, spam, "status", to="rejected", reason="spam")
    assert fresh(copy).duplicate_of_id == fresh(original).id
    assert fresh(referral).referred_to_id == external.id
    assert fresh(private).close_reason == "private_property"
    assert fresh(spam).status == "rejected"


def test_the_closing_reasons_are_offered_in_words(client, login_as, demo_city):
    reference = ticket(demo_city)
    login_as("agent.voirie")
    page = client.get(f"/staff/tickets/{reference}").get_data(as_text=True)
    assert '<option value="private_property">le lieu est une propriété privée</option>' in page
    client.set_cookie("lang", "en")
    page = client.get(f"/staff/tickets/{reference}").get_data(as_text=True)
    assert '<option value="private_property">the place is private property</option>' in page


def test_a_manager_transfers_and_the_ticket_leaves_the_queue(client, login_as, demo_city):
    reference = ticket(demo_city)
    login_as("chef.voirie")
    response = act(
        client,
        reference,
        "transfer",
        department=str(department(demo_city, "proprete").id),
        reason="Gravats",
    )
    assert response.location.endswith("/staff/")
    assert fresh(reference).department.slug == "proprete"


def test_assign_priority_note_and_reply(client, login_as, demo_city, staff):
    reference = ticket(demo_city)
    login_as("chef.voirie")
    act(client, reference, "assign", assignee=str(staff["agent.voirie"].id))
    act(client, reference, "priority", priority="1")
    act(client, reference, "note", text="Voir avec l'équipe de nuit.")
    act(client, reference, "reply", text="Intervention prévue jeudi.")
    report = fresh(reference)
    assert report.assignee_id == staff["agent.voirie"].id and report.priority == 1
    public = client.get(f"/reports/{reference}").get_data(as_text=True)
    assert "Intervention prévue jeudi." in public
    assert "équipe de nuit" not in public
    staff_page = client.get(f"/staff/tickets/{reference}").get_data(as_text=True)
    assert "équipe de nuit" in staff_page and "internal" in staff_page


def test_merging_carries_supporters_and_followers(client, login_as, demo_city):
    target = ticket(demo_city)
    first = ticket(demo_city, reporter_email="voisin1@example.org")
    second = ticket(demo_city, reporter_email="voisin2@example.org")
    db.session.add_all(
        [
            Support(report_id=fresh(first).id, supporter_key="k1"),
            Support(report_id=fresh(second).id, supporter_key="k1"),
            Subscription(report_id=fresh(second).id, email="suiveur@example.org", token="tk2"),
        ]
    )
    db.session.commit()
    login_as("agent.voirie")
    act(client, target, "merge", references=f"{first}, {second}")
    merged = fresh(target)
    for reference in (first, second):
        duplicate = fresh(reference)
        assert duplicate.status == "duplicate" and duplicate.duplicate_of_id == merged.id
        # The note is said in each reader's language, not in the one the agent used.
        page = client.get(f"/reports/{reference}").get_data(as_text=True)
        assert f"Fusionné dans {target}, qui suit le même problème." in page
        client.get("/lang/en")
        english = client.get(f"/reports/{reference}").get_data(as_text=True)
        assert f"Merged into {target}, which follows the same problem." in english
        client.get("/lang/fr")
    followers = set(
        db.session.scalars(sa.select(Subscription.email).where(Subscription.report_id == merged.id))
    )
    assert {"voisin1@example.org", "voisin2@example.org", "suiveur@example.org"} <= followers
    assert merged.support_count == 3  # k1 once, and each duplicate's reporter


def test_moderation_hides_and_keeps_the_original_for_managers(client, login_as, demo_city):
    reference = ticket(demo_city, description="Appelez Jean Dupont au 06 11 22 33 44")
    login_as("agent.voirie")
    act(client, reference, "description", description="Trou dangereux.", reason="données perso")
    assert fresh(reference).description == "Trou dangereux."
    assert "Jean Dupont" not in client.get(f"/reports/{reference}").get_data(as_text=True)
    assert "Jean Dupont" not in client.get(f"/staff/tickets/{reference}").get_data(as_text=True)
    login_as("chef.voirie")
    assert "Jean Dupont" in client.get(f"/staff/tickets/{reference}").get_data(as_text=True)
    act(client, reference, "visibility", hidden="1", reason="doublon abusif")
    assert client.get(f"/reports/{reference}").status_code == 404
    assert client.get(f"/staff/tickets/{reference}").status_code == 200


def test_hiding_a_comment(client, login_as, demo_city):
    from tellcity.core.permissions import Actor
    from tellcity.reports.services import add_comment

    report = submit(demo_city)
    comment = add_comment(report, "Insulte grossière", Actor.reporter(report))
    db.session.commit()
    login_as("agent.voirie")
    post(
        client,
        f"/staff/tickets/{report.reference}/events/{comment.id}/visibility",
        hidden="1",
        reason="injurieux",
    )
    assert "Insulte grossière" not in client.get(f"/reports/{report.reference}").get_data(
        as_text=True
    )
    db.session.expire_all()
    assert db.session.get(ReportEvent, comment.id).is_hidden
