"""A category's questions: asked by the web form (with and without JavaScript), checked as for
every front end, and their answers shown to staff, in the export, on the public page, in
/api/v1 and in Open311."""

import csv
import io
import re

import pytest
import sqlalchemy as sa

from tellcity.extensions import db
from tellcity.reports.models import Report
from tests.open311.helpers import json_of
from tests.reports.helpers import ILE_SAINT_GERMAIN, TOWN_HALL, category, submit
from tests.web.helpers import form_tokens, text

DUMPING = {
    "category": "illegal-dumping",
    "lat": ILE_SAINT_GERMAIN[0],
    "lon": ILE_SAINT_GERMAIN[1],
    "description": "Un canapé sur le trottoir",
    "not_a_duplicate": "y",
}


def reports() -> list[Report]:
    return db.session.scalars(sa.select(Report).order_by(Report.id)).all()


def fieldset(page: str, code: str) -> str:
    """The <fieldset> of the questions of category `code`, with its opening tag."""
    start = page.index(f'<fieldset class="questions" data-category="{code}"')
    ends = [page.find(tag, start + 1) for tag in ('<fieldset class="questions"', 'class="where"')]
    return page[start : min(end for end in ends if end > 0)]


@pytest.fixture
def every_kind(demo_city):
    """Potholes ask one question of each datatype."""
    category(demo_city, "pothole").attributes = [
        {
            "code": "size",
            "datatype": "singlevaluelist",
            "required": True,
            "description": "Taille",
            "values": [{"key": "small", "name": "Petit"}, {"key": "large", "name": "Grand"}],
        },
        {
            "code": "hazards",
            "datatype": "multivaluelist",
            "description": "Dangers",
            "values": [{"key": "cars", "name": "Voitures"}, {"key": "bikes", "name": "Vélos"}],
        },
        {"code": "depth", "datatype": "number", "description": "Profondeur (cm)"},
        {"code": "seen", "datatype": "datetime", "description": "Vu le"},
        {"code": "notes", "datatype": "text", "description": "Remarques"},
        {"code": "landmark", "datatype": "string", "description": "Repère"},
    ]
    db.session.commit()


def test_each_category_asks_its_questions_with_the_right_inputs(client, demo_city, every_kind):
    page = text(client.get("/report?category=pothole"))
    questions = fieldset(page, "pothole")
    assert "hidden" not in questions.split(">")[0]  # the chosen category's, shown
    assert re.search(r'<select id="q-pothole-size" name="attribute\[size\]" required', questions)
    assert 'Taille <span class="required">(obligatoire)</span>' in questions
    assert questions.count('type="checkbox" name="attribute[hazards]"') == 2
    assert 'name="attribute[depth]" type="number"' in questions
    assert 'name="attribute[seen]" type="datetime-local"' in questions
    assert '<textarea id="q-pothole-notes" name="attribute[notes]"' in questions
    assert 'name="attribute[landmark]" type="text"' in questions
    assert "(facultatif)" in questions
    # another category's questions are on the page, hidden and disabled (never sent)
    assert 'data-category="illegal-dumping" hidden disabled' in page
    english = text(
        client.get("/report?category=illegal-dumping", headers={"Accept-Language": "en"})
    )
    dumping = fieldset(english, "illegal-dumping")
    assert 'What was dumped <span class="required">(required)</span>' in dumping
    assert '<option value="bulky">Bulky items</option>' in dumping
    assert "A few questions" in dumping
    french = fieldset(text(client.get("/report?category=illegal-dumping")), "illegal-dumping")
    assert '<option value="bulky">Encombrants</option>' in french


def test_without_javascript_the_questions_come_once_the_category_is_chosen(client, demo_city):
    form = {**form_tokens(client, "/report"), **DUMPING}
    first = client.post("/report", data=form)  # no questions were shown: no questions_for
    page = text(first)
    assert first.status_code == 200 and reports() == []
    assert "Quelques questions sur votre signalement" in page
    assert "Nature du dépôt" in fieldset(page, "illegal-dumping")
    assert 'data-category="illegal-dumping" hidden' not in page
    # what was typed is kept, and the questions_for the browser now sends back
    assert "Un canapé sur le trottoir" in page
    again = {**form, "questions_for": "illegal-dumping", "attribute[waste_type]": "bulky"}
    assert client.post("/report", data=again).status_code == 302
    [report] = reports()
    assert report.attributes == {"waste_type": "bulky"}


@pytest.mark.parametrize(
    ("answers", "message", "code"),
    [
        ({}, "Une réponse est requise.", "answer_required"),
        (
            {"attribute[waste_type]": "plutonium"},
            "L&#39;une de : bulky, rubble",
            "answer_not_offered",
        ),
    ],
)
def test_a_wrong_answer_brings_the_form_back_next_to_the_question(
    client, demo_city, answers, message, code
):
    form = {**form_tokens(client, "/report"), **DUMPING, "questions_for": "illegal-dumping"}
    response = client.post("/report", data={**form, **answers})
    page = text(response)
    assert response.status_code == 422 and reports() == []
    assert f'data-error-code="{code}"' in page
    questions = fieldset(page, "illegal-dumping")
    assert 'aria-invalid="true"' in questions and message in questions


def test_every_datatype_is_stored_as_answered(client, demo_city, every_kind):
    form = {
        **form_tokens(client, "/report"),
        "category": "pothole",
        "questions_for": "pothole",
        "lat": TOWN_HALL[0],
        "lon": TOWN_HALL[1],
        "description": "Un trou",
        "not_a_duplicate": "y",
        "attribute[size]": "large",
        "attribute[hazards]": ["cars", "bikes"],
        "attribute[depth]": "12.5",
        "attribute[seen]": "2026-03-01T08:30",
        "attribute[notes]": "Près de l'arrêt\nde bus",
        "attribute[landmark]": "  devant   la mairie ",
    }
    assert client.post("/report", data=form).status_code == 302
    [report] = reports()
    assert report.attributes == {
        "size": "large",
        "hazards": ["cars", "bikes"],
        "depth": 12.5,
        "seen": "2026-03-01T08:30:00",
        "notes": "Près de l'arrêt\nde bus",
        "landmark": "devant la mairie",
    }


def test_answers_are_shown_to_staff_in_the_export_and_to_everyone(
    client, login_as, demo_city, every_kind
):
    report = submit(
        demo_city,
        answers={"size": "large", "hazards": ["cars", "bikes"], "notes": "appelez le 0611223344"},
    )
    db.session.commit()
    reference = report.reference
    login_as("agent.voirie")
    ticket = text(client.get(f"/staff/tickets/{reference}"))
    assert "<dt>Taille</dt><dd>Grand</dd>" in ticket
    assert "<dt>Dangers</dt><dd>Voitures, Vélos</dd>" in ticket
    [row] = csv.DictReader(io.StringIO(text(client.get("/staff/export.csv"))))
    assert row["answers"] == "hazards: cars, bikes; notes: appelez le 0611223344; size: large"
    login_as(None)
    public = text(client.get(f"/reports/{reference}"))
    assert "<dt>Taille</dt><dd>Grand</dd>" in public and "0611223344" not in public
    api = client.get(f"/api/v1/reports/{reference}").json["answers"]
    assert [(a["code"], a["value"], a["text"]) for a in api[:2]] == [
        ("size", "large", "Grand"),
        ("hazards", ["cars", "bikes"], "Voitures, Vélos"),
    ]
    assert "0611223344" not in str(api)
    [request] = json_of(client.get(f"/open311/v2/requests/{reference}.json?extensions=true"))
    attributes = request["extended_attributes"]["attributes"]
    assert attributes[:2] == [
        {"code": "size", "values": ["large"]},
        {"code": "hazards", "values": ["cars", "bikes"]},
    ]
    assert "0611223344" not in str(attributes)
