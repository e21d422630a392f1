"""Following a report or an idea by email from its public page, with double opt-in: the address
gets a confirmation link and nothing else until its owner confirms (through a real SMTP
server)."""

import re
from datetime import timedelta

import sqlalchemy as sa

from tellcity.core.db import utcnow
from tellcity.core.permissions import Actor
from tellcity.extensions import db
from tellcity.notify.models import OutboxMessage
from tellcity.notify.worker import deliver_due
from tellcity.reports import services
from tellcity.reports.lifecycle import transition
from tellcity.reports.links import tracking_url
from tellcity.reports.models import Subscription
from tellcity.staff.services import merge
from tests.reports.helpers import submit
from tests.web.helpers import CSRF, form_tokens, post_form, text

NEIGHBOUR = "voisin@example.org"
CONFIRM_LINK = re.compile(r"http://127\.0\.0\.1:5000(/subscriptions/[^/\s]+/confirm)")
UNSUBSCRIBE_LINK = re.compile(r"http://127\.0\.0\.1:5000(/subscriptions/[^/\s]+/unsubscribe)")


def filed(demo_city, code="pothole", **fields):
    report = submit(demo_city, code, **fields)
    db.session.commit()
    return report


def an_idea(demo_city):
    return filed(demo_city, "idea-mobility", at=None, description="Une piste cyclable")


def follow(client, report, email=NEIGHBOUR, **fields):
    url = f"/reports/{report.reference}"
    return post_form(client, f"{url}/follow", {"email": email, **fields}, page=url)


def inbox(smtp, address=NEIGHBOUR) -> list[str]:
    """The plain text of every email `address` has received, once the worker has sent what
    is due."""
    deliver_due()
    return [message.get_body(("plain",)).get_content() for message in smtp.to(address)]


def confirm_path(smtp) -> str:
    [body] = [body for body in inbox(smtp) if CONFIRM_LINK.search(body)]
    return CONFIRM_LINK.search(body).group(1)


def confirm(client, path: str):
    page = client.get(path)
    return client.post(path, data={"csrf_token": CSRF.search(page.text).group(1)})


def staff_reply(report, staff, words: str):
    services.reply(report, words, Actor.of(staff["agent.voirie"]))
    db.session.commit()


def test_a_neighbour_follows_once_they_confirm_the_link_of_the_email(
    client, demo_city, staff, smtp
):
    report = filed(demo_city)
    response = follow(client, report)
    assert response.status_code == 302
    assert "nous avons envoyé un lien de confirmation" in text(client.get(response.location))
    [confirmation] = inbox(smtp)
    assert report.reference in confirmation
    assert "ignorez simplement ce message" in confirmation
    path = CONFIRM_LINK.search(confirmation).group(1)

    staff_reply(report, staff, "Une équipe passe demain.")
    assert len(inbox(smtp)) == 1  # nothing but the confirmation before confirming

    done = confirm(client, path)
    assert done.status_code == 200
    assert f"Vous suivez le signalement {report.reference}" in done.text
    staff_reply(report, staff, "Le trou est rebouché.")
    latest = inbox(smtp)[-1]
    assert len(inbox(smtp)) == 2 and "Le trou est rebouché." in latest
    assert "Une équipe passe demain." not in latest
    assert "jeanne@example.org" not in latest  # nothing of the reporter's
    for url in (f"/reports/{report.reference}", "/reports", f"/api/v1/reports/{report.reference}"):
        assert NEIGHBOUR not in text(client.get(url))


def test_opening_the_link_confirms_nothing_until_the_button_is_pressed(
    client, demo_city, staff, smtp
):
    report = filed(demo_city)
    follow(client, report)
    path = confirm_path(smtp)
    page = client.get(path)  # what a mail scanner does
    assert page.status_code == 200 and "Oui, je veux suivre" in page.text
    client.get(path)
    staff_reply(report, staff, "Une équipe passe demain.")
    assert len(inbox(smtp)) == 1
    confirm(client, path)
    staff_reply(report, staff, "Le trou est rebouché.")
    assert len(inbox(smtp)) == 2


def test_following_twice_makes_one_follower_and_one_confirmation(client, demo_city, staff, smtp):
    report = filed(demo_city)
    first = text(client.get(follow(client, report).location))
    second = text(client.get(follow(client, report, email=" Voisin@Example.ORG ").location))
    message = "Consultez votre messagerie"
    assert message in first and message in second
    assert len(inbox(smtp)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Subscription)) == 1

    confirm(client, confirm_path(smtp))
    again = text(client.get(follow(client, report).location))
    assert message in again  # the same answer: nobody learns that the address follows
    assert len(inbox(smtp)) == 1
    staff_reply(report, staff, "Une équipe passe demain.")
    assert len(inbox(smtp)) == 2  # one email for one follower


def test_who_lost_the_confirmation_gets_a_new_one_hours_later(client, demo_city, smtp):
    report = filed(demo_city)
    follow(client, report)
    follow(client, report)
    assert len(inbox(smtp)) == 1
    later = utcnow() + timedelta(hours=7)
    services.ask_to_follow(report, NEIGHBOUR, locale="fr", now=later)
    db.session.commit()
    first, second = inbox(smtp)
    assert CONFIRM_LINK.search(first).group(1) == CONFIRM_LINK.search(second).group(1)


def test_a_bad_address_shows_the_page_again_with_the_error(client, demo_city):
    report = filed(demo_city)
    queued = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    for wrong in ("pas-une-adresse", ""):
        response = follow(client, report, email=wrong)
        assert response.status_code == 422
        assert 'aria-invalid="true"' in response.text and "Moi aussi" in response.text
    assert "adresse électronique valide" in follow(client, report, email="pas-une-adresse").text
    assert db.session.scalars(sa.select(Subscription)).all() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == queued


def test_the_confirmation_speaks_the_language_of_the_page(client, demo_city, smtp):
    report = filed(demo_city)
    client.set_cookie("lang", "en")
    response = follow(client, report)
    assert "Check your inbox" in text(client.get(response.location))
    [email] = smtp.to(NEIGHBOUR) if deliver_due() else []
    assert email["Subject"] == f"Confirm that you want to follow report {report.reference}"
    assert "just ignore this message" in email.get_body(("html",)).get_content()
    page = client.get(CONFIRM_LINK.search(email.get_body(("plain",)).get_content()).group(1))
    assert f"Follow report {report.reference} by email?" in page.text


def test_a_follower_reads_later_emails_in_the_language_they_followed_in(
    client, demo_city, staff, smtp
):
    report = filed(demo_city)
    client.set_cookie("lang", "en")
    follow(client, report)
    confirm(client, confirm_path(smtp))
    staff_reply(report, staff, "Une équipe passe demain.")
    assert inbox(smtp)[-1].startswith("Hello,")


def test_the_reporter_never_sees_who_follows_from_the_public_page(client, demo_city, staff, smtp):
    report = filed(demo_city)
    follow(client, report)
    confirm(client, confirm_path(smtp))
    url = tracking_url(report)
    assert NEIGHBOUR not in text(client.get(url))
    post_form(client, f"{url}/unfollow", {"email": NEIGHBOUR}, page=url)
    staff_reply(report, staff, "Une équipe passe demain.")
    assert len(inbox(smtp)) == 2  # still following: only they can stop it


def test_me_too_then_offers_to_follow(client, demo_city, staff, smtp):
    report = filed(demo_city)
    url = f"/reports/{report.reference}"
    supported = post_form(client, f"{url}/support", {}, page=url)
    assert supported.location.endswith(f"{url}#follow")
    page = text(client.get(supported.location))
    assert "votre soutien est compté" in page
    assert "Voulez-vous savoir ce qui se passe ensuite ?" in page
    assert "Voulez-vous savoir" not in text(client.get(url))  # offered once
    follow(client, report)
    confirm(client, confirm_path(smtp))
    transition(report, "acknowledged", Actor.of(staff["agent.voirie"]), text="Vu, merci.")
    db.session.commit()
    assert "Vu, merci." in inbox(smtp)[-1]


def test_the_supporters_of_an_idea_who_follow_hear_its_answer(client, demo_city, staff, smtp):
    idea = an_idea(demo_city)
    voted = post_form(
        client, f"/reports/{idea.reference}/support", {"next": "/ideas"}, page="/ideas"
    )
    assert voted.location == "/ideas"
    ideas = text(client.get("/ideas"))
    assert "Voulez-vous connaître la réponse de la ville ?" in ideas
    response = post_form(
        client,
        f"/reports/{idea.reference}/follow",
        {"email": NEIGHBOUR, "next": "/ideas"},
        page=f"/reports/{idea.reference}",
    )
    assert response.status_code == 302 and response.location == "/ideas"
    [confirmation] = inbox(smtp)
    assert f"suivre l'idée {idea.reference}" in confirmation
    done = confirm(client, CONFIRM_LINK.search(confirmation).group(1))
    assert f"Vous suivez l'idée {idea.reference}" in done.text
    answer = "Nous étudions ce projet avec les associations."
    transition(idea, "under_review", Actor.of(staff["agent.accueil"]), text=answer)
    db.session.commit()
    assert answer in inbox(smtp)[-1]


def test_the_idea_page_has_its_own_follow_form(client, demo_city, smtp):
    idea = an_idea(demo_city)
    page = text(client.get(f"/reports/{idea.reference}"))
    assert "Suivre cette idée par email" in page
    assert follow(client, idea).status_code == 302
    assert len(inbox(smtp)) == 1


def test_a_follower_unsubscribes_from_the_link_of_an_email(client, demo_city, staff, smtp):
    report = filed(demo_city)
    follow(client, report)
    confirm(client, confirm_path(smtp))
    staff_reply(report, staff, "Une équipe passe demain.")
    path = UNSUBSCRIBE_LINK.search(inbox(smtp)[-1]).group(1)
    page = client.get(path)
    done = client.post(path, data={"csrf_token": CSRF.search(page.text).group(1)})
    assert "Vous ne recevrez plus" in done.text
    staff_reply(report, staff, "Le trou est rebouché.")
    assert len(inbox(smtp)) == 2


def test_a_closed_report_takes_no_followers(client, demo_city, staff, smtp):
    report = filed(demo_city)
    transition(report, "resolved", Actor.of(staff["agent.voirie"]), text="Rebouché.")
    db.session.commit()
    assert "Suivre ce signalement" not in text(client.get(f"/reports/{report.reference}"))
    url = f"/reports/{report.reference}/follow"
    refused = post_form(client, url, {"email": NEIGHBOUR}, page="/report")
    assert "il n&#39;y a plus rien à suivre" in text(client.get(refused.location))
    assert db.session.scalars(sa.select(Subscription)).all() == []


def test_merging_keeps_an_unconfirmed_follower_unconfirmed(client, demo_city, staff, smtp):
    original, duplicate = filed(demo_city), filed(demo_city)
    follow(client, duplicate)
    path = confirm_path(smtp)
    merge(original, [duplicate], Actor.of(staff["agent.voirie"]))
    db.session.commit()
    staff_reply(original, staff, "Une équipe passe demain.")
    assert len(inbox(smtp)) == 1
    confirm(client, path)  # the link of the pending confirmation now follows the original
    staff_reply(original, staff, "Le trou est rebouché.")
    assert "Le trou est rebouché." in inbox(smtp)[-1]


def test_the_follow_form_is_rate_limited(app, client, demo_city, smtp):
    app.config["RATELIMIT_SUPPORT"] = "2 per minute"
    report = filed(demo_city)
    url = f"/reports/{report.reference}/follow"
    tokens = form_tokens(client, f"/reports/{report.reference}")
    answers = [
        client.post(url, data={**tokens, "email": f"n{n}@example.org"}).status_code
        for n in range(3)
    ]
    assert answers == [302, 302, 429]
