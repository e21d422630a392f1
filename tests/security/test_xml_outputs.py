"""Every XML document the app writes stays well-formed whatever text residents and staff sent:
reports holding each character XML 1.0 forbids are filed, then every feed and Open311 answer
is parsed with a strict parser, and the visible text is still there."""

from xml.etree import ElementTree as ET

import pytest

from tellcity.core.permissions import Actor
from tellcity.core.xml import to_bytes
from tellcity.extensions import db
from tellcity.reports import services
from tellcity.reports.lifecycle import transition
from tests.reports.helpers import submit

#: Every C0 control but NUL (refused on the way in: tests/security/test_hostile_bodies.py),
#: DEL, and the two non-characters: XML 1.0 forbids all of the C0 controls but tab, line
#: feed and carriage return, and U+FFFE and U+FFFF; DEL is allowed.
HOSTILE = "".join(chr(code) for code in range(1, 0x20)) + "\x7f\ufffe\uffff"
FORBIDDEN = set(HOSTILE) - {"\t", "\n", "\r", "\x7f"}


def hostile(word: str) -> str:
    """`word` cut in two by every hostile character: what must survive is `word`'s halves."""
    return f"{word[:4]}{HOSTILE}{word[4:]}"


@pytest.fixture
def hostile_reports(demo_city, staff):
    """A report whose description, address, answer and reporter's name hold every hostile
    character, with a public reply holding them too; and an idea likewise."""
    report = submit(
        demo_city,
        "street-light",
        description=hostile("Lampadaire éteint"),
        address=hostile("12 rue Ernest Renan"),
        reporter_name=hostile("Jeanne Hostile"),
        answers={"lamp_number": hostile("Mât 4521")},
    )
    admin = Actor.of(staff["admin"])
    transition(report, "acknowledged", admin, text=hostile("Prise en charge"))
    services.reply(report, hostile("Réponse de la ville"), admin)
    idea = submit(demo_city, "idea-mobility", at=None, description=hostile("Des arceaux vélos"))
    db.session.commit()
    return report.reference, idea.reference


def xml_urls(refs) -> list[str]:
    report, idea = refs
    urls = [
        "/feeds/reports.atom",
        "/feeds/reports.atom?category=street-light",
        "/feeds/reports.atom?zone=centre-ville",
    ]
    for path in (
        "services.xml",
        "services/street-light.xml",
        "requests.xml",
        "requests.xml?extensions=true",
        f"requests/{report}.xml?extensions=true",
        f"requests/{idea}.xml",
        f"tokens/{report}.xml",
        "servicerequestupdates.xml",
        # Errors that repeat what the client sent, control characters included.
        "requests/ISS-%0B%1B.xml",
        "services/lamp%1B%0C.xml",
        "requests.xml?status=op%1Ben",
    ):
        urls.append(f"/open311/v2/{path}")
    return urls


def test_every_xml_output_parses_with_hostile_text_in_reports(client, hostile_reports):
    for url in xml_urls(hostile_reports):
        response = client.get(url)
        assert response.status_code < 500, url
        root = ET.fromstring(response.data)  # strict: refuses any character XML forbids
        assert not FORBIDDEN & set(response.data.decode("utf-8")), url
        assert root is not None


def test_the_visible_text_survives(client, hostile_reports):
    report, _idea = hostile_reports
    atom = ET.fromstring(client.get("/feeds/reports.atom").data)
    summaries = _visible(atom.iter("{http://www.w3.org/2005/Atom}summary"))
    for words in ("Lampadaire éteint", "12 rue Ernest Renan", "Des arceaux vélos"):
        assert _visible_words(words) in summaries, words

    request = client.get(f"/open311/v2/requests/{report}.xml?extensions=true")
    texts = _visible(ET.fromstring(request.data).iter())
    for words in ("Lampadaire éteint", "12 rue Ernest Renan", "Mât 4521", "Réponse de la ville"):
        assert _visible_words(words) in texts, words

    updates = ET.fromstring(client.get("/open311/v2/servicerequestupdates.xml").data)
    assert _visible_words("Réponse de la ville") in _visible(updates.iter())


def _visible(elements) -> str:
    """The text of `elements` as a reader sees it, once the white space and DEL (which XML
    allows) that the hostile run left behind are gone."""
    return _visible_words(" ".join(element.text or "" for element in elements))


def _visible_words(text: str) -> str:
    return "".join(text.replace("\x7f", "").split())


def test_an_error_repeating_hostile_text_parses(client, demo_city):
    response = client.get("/open311/v2/requests/ISS-%0B%1B%EF%BF%BE.xml")
    assert response.status_code == 404
    [error] = ET.fromstring(response.data)
    assert "ISS-" in error.find("description").text


def test_the_writer_drops_lone_surrogates_and_every_forbidden_character():
    """A lone surrogate cannot reach the database (no driver encodes one, and requests carrying
    one are refused), but the one XML writer would not let it through either."""
    root = ET.Element("feed")
    ET.SubElement(root, "title", label="a\ud800\x0bb").text = "x\udfff\x00" + HOSTILE + "y"
    parsed = ET.fromstring(to_bytes(root))
    assert parsed.find("title").text == "x\t\n\n\x7fy"  # CR is read as a line feed
    assert parsed.find("title").get("label") == "ab"
