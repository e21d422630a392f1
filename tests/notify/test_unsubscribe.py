"""A follower stops the emails from the link at the bottom of one."""

import re

import sqlalchemy as sa

from tellcity.extensions import db
from tellcity.notify import services
from tellcity.notify.worker import deliver_due
from tellcity.reports.models import Subscription
from tests.factories import make_city, make_department, make_event, make_subscription
from tests.notify.helpers import reported

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def test_the_unsubscribe_link_of_an_email_stops_the_emails(app, client, smtp):
    report = reported(make_department(make_city()))
    make_subscription(report, email="bob@example.org")
    services.notify_status_change(report, make_event(report, text="Équipe prévue."))
    db.session.commit()
    deliver_due()
    [email] = smtp.to("bob@example.org")
    [link] = re.findall(r"http://\S+/unsubscribe", email.get_body(("plain",)).get_content())
    path = link.removeprefix("http://127.0.0.1:5000")

    page = client.get(path)
    assert page.status_code == 200
    assert report.reference in page.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Subscription)) == 1  # GET

    done = client.post(path, data={"csrf_token": CSRF.search(page.text).group(1)})
    assert done.status_code == 200
    assert "Vous ne recevrez plus" in done.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Subscription)) == 0

    services.notify_status_change(report, make_event(report, text="Terminé."))
    db.session.commit()
    deliver_due()
    assert len(smtp.to("bob@example.org")) == 1
    assert client.get(path).status_code == 404


def test_the_page_speaks_the_visitors_language(app, client):
    subscription = make_subscription(
        reported(make_department(make_city())), email="bob@example.org"
    )
    db.session.commit()
    client.set_cookie("lang", "en")
    page = client.get(f"/subscriptions/{subscription.token}/unsubscribe")
    assert "Stop following report" in page.text
    done = client.post(page.request.path, data={"csrf_token": CSRF.search(page.text).group(1)})
    assert "You will no longer receive updates" in done.text


def test_unsubscribing_needs_the_form_token(app, client):
    subscription = make_subscription(
        reported(make_department(make_city())), email="bob@example.org"
    )
    db.session.commit()
    response = client.post(f"/subscriptions/{subscription.token}/unsubscribe")
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Subscription)) == 1


def test_an_unknown_token_is_not_found(app, client):
    assert client.get("/subscriptions/no-such-token/unsubscribe").status_code == 404
    assert client.post("/subscriptions/no-such-token/unsubscribe").status_code in (400, 404)


def test_the_page_calls_an_idea_an_idea(app, client):
    idea = reported(make_department(make_city()), kind="suggestion")
    subscription = make_subscription(idea, email="bob@example.org")
    db.session.commit()
    path = f"/subscriptions/{subscription.token}/unsubscribe"

    page = client.get(path)
    assert f"Ne plus suivre l'idée {idea.reference} ?" in page.text.replace("&#39;", "'")
    assert "signalement" not in page.text.split("<main", 1)[1].split("</main>", 1)[0]
    client.set_cookie("lang", "en")
    assert f"Stop following idea {idea.reference}?" in client.get(path).text
