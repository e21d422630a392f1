"""Every message has its French translation, and the compiled catalog is the one the .po makes."""

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "tellcity" / "translations" / "fr" / "LC_MESSAGES"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def extracted_messages() -> set:
    with open(ROOT / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = set()
    for *_where, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def french() -> dict:
    with open(CATALOG / "messages.po", "rb") as f:
        catalog = read_po(f, locale="fr")
    return {(m.id if isinstance(m.id, str) else m.id[0]): m for m in catalog if m.id}


def test_every_message_of_the_code_and_templates_is_translated_into_french():
    catalog = french()
    missing = sorted(
        m
        for m in extracted_messages()
        if m not in catalog or not catalog[m].string or catalog[m].fuzzy
    )
    assert missing == []


def test_the_compiled_catalog_matches_its_source():
    with open(CATALOG / "messages.po", "rb") as f:
        source = read_po(f, locale="fr")
    compiled = io.BytesIO()
    write_mo(compiled, source)
    compiled.seek(0)
    with open(CATALOG / "messages.mo", "rb") as f:
        shipped = read_mo(f)
    expected = read_mo(compiled)
    assert as_dict(shipped) == as_dict(expected)


def as_dict(catalog) -> dict:
    def key(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    return {key(m.id): key(m.string) for m in catalog if m.id}
