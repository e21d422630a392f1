"""What an administrator types or uploads is checked before anything is saved: extra
questions against the shape of Open311 attributes, zone files against GeoJSON."""

import json

import pytest

from tellcity.admin.validation import check_zone_layout, read_zone_file
from tellcity.categories.questions import check_attributes
from tellcity.core.errors import Invalid
from tests.reports.helpers import category

SQUARE = [[[2.0, 48.0], [2.1, 48.0], [2.1, 48.1], [2.0, 48.1], [2.0, 48.0]]]
CITY = {"type": "Polygon", "coordinates": SQUARE}


def test_questions_are_tidied_and_sorted():
    questions = [
        {"code": "b", "datatype": "number", "description": " How many? ", "order": 2},
        {
            "code": "a",
            "datatype": "multivaluelist",
            "description": "Which?",
            "datatype_description": "Tick all that apply",
            "order": 1,
            "required": True,
            "values": [{"key": "x", "name": "X"}],
        },
        {"code": "note", "datatype": "text", "description": "Be careful", "variable": False},
    ]
    assert check_attributes(questions) == [
        {
            "code": "a",
            "datatype": "multivaluelist",
            "required": True,
            "order": 1,
            "description": "Which?",
            "datatype_description": "Tick all that apply",
            "values": [{"key": "x", "name": "X"}],
        },
        {
            "code": "b",
            "datatype": "number",
            "required": False,
            "order": 2,
            "description": "How many?",
        },
        {
            "code": "note",
            "datatype": "text",
            "required": False,
            "order": 3,
            "description": "Be careful",
            "variable": False,
        },
    ]
    assert check_attributes(None) == check_attributes([]) == []


def test_a_question_may_have_its_english_words():
    [question] = check_attributes(
        [
            {
                "code": "size",
                "datatype": "singlevaluelist",
                "description": "Taille",
                "description_en": " Size ",
                "values": [
                    {"key": "s", "name": "Petit", "name_en": "Small"},
                    {"key": "l", "name": "Grand"},
                ],
            }
        ]
    )
    assert question["description_en"] == "Size"
    assert question["values"] == [
        {"key": "s", "name": "Petit", "name_en": "Small"},
        {"key": "l", "name": "Grand"},
    ]
    with pytest.raises(Invalid):
        check_attributes(
            [{"code": "x", "datatype": "string", "description": "X", "description_en": 3}]
        )


def test_the_demo_questions_come_back_unchanged(demo_city):
    for code in ("pothole", "illegal-dumping", "street-light", "abandoned-vehicle"):
        attributes = category(demo_city, code).attributes
        assert check_attributes(attributes) == attributes


@pytest.mark.parametrize(
    ("questions", "message"),
    [
        (
            [{"code": "a b", "datatype": "text", "description": "?"}],
            "Question 1 (a b): give a code",
        ),
        (
            [{"code": "a", "datatype": "text", "description": "?", "required": "yes"}],
            "Question 1 (a): required must be true or false.",
        ),
        (
            [{"code": "a", "datatype": "text", "description": "?", "order": 0}],
            "Question 1 (a): order must be a whole number from 1.",
        ),
        (
            [{"code": "a", "datatype": "text", "description": "?", "values": [{"key": "k"}]}],
            "Question 1 (a): only list questions",
        ),
        (
            [
                {
                    "code": "a",
                    "datatype": "singlevaluelist",
                    "description": "?",
                    "values": [{"key": "k", "name": "K"}, {"key": "k", "name": "L"}],
                }
            ],
            "Question 1 (a): two values have the key k.",
        ),
        (
            [
                {
                    "code": "a",
                    "datatype": "singlevaluelist",
                    "description": "?",
                    "values": [{"key": 1}],
                }
            ],
            'Question 1 (a): each value is {"key": "...", "name": "..."}, both text.',
        ),
        (
            [{"code": "a", "datatype": "text", "description": "?"}] * 2,
            "Two questions have the code a.",
        ),
        (["size"], "Question 1: write an object {...}."),
    ],
)
def test_a_wrong_question_is_named_with_what_is_wrong(questions, message):
    with pytest.raises(Invalid) as refused:
        check_attributes(questions)
    assert refused.value.field == "attributes"
    assert refused.value.message.startswith(message)


def test_a_lone_feature_a_multipolygon_and_3d_coordinates_are_read():
    three_d = [[[x, y, 35.0] for x, y in SQUARE[0]]]
    feature = {
        "type": "Feature",
        "properties": {"name": " Nord ", "population": 1200.0},
        "geometry": {"type": "MultiPolygon", "coordinates": [three_d]},
    }
    [zone] = read_zone_file(json.dumps(feature).encode())
    assert (zone.number, zone.name, zone.population) == (1, "Nord", 1200)
    assert zone.geometry.geom_type == "MultiPolygon" and not zone.geometry.has_z
    check_zone_layout([zone], CITY, existing=[])


def test_a_zone_may_stray_a_hair_beyond_the_limits_but_no_further():
    def zone(dx: float):
        ring = [[x + dx, y] for x, y in SQUARE[0]]
        feature = {
            "type": "Feature",
            "properties": {"name": "Z"},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }
        return read_zone_file(json.dumps(feature).encode())

    check_zone_layout(zone(5e-7), CITY, existing=[])
    with pytest.raises(Invalid, match="goes outside the city limits"):
        check_zone_layout(zone(1e-4), CITY, existing=[])


def test_an_empty_collection_is_refused():
    with pytest.raises(Invalid, match="has no features"):
        read_zone_file(b'{"type": "FeatureCollection", "features": []}')
