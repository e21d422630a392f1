"""XML out: every document the app writes (the Atom feeds, Open311's XML) is serialised here,
so it stays well-formed whatever text residents sent.

XML 1.0 cannot carry some characters at all, not even escaped: the C0 controls but tab, line
feed and carriage return, lone surrogates, U+FFFE and U+FFFF. One report holding a vertical tab
or an escape would otherwise make a whole feed unreadable for every subscriber. They are
dropped from the serialised document in one pass: markup is ASCII, so only the text and the
attribute values can hold them, and what a reader sees is otherwise the same."""

import re
from xml.etree import ElementTree as ET

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

#: The characters XML 1.0 forbids (its Char production), as they may appear in a str.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """`text` without the characters XML 1.0 cannot carry."""
    return NOT_XML.sub("", text)


def to_bytes(root: ET.Element, *, short_empty_elements: bool = True) -> bytes:
    """The document whose element is `root`, in UTF-8 with its declaration, without the
    characters XML 1.0 cannot carry (ElementTree escapes markup but writes those as they are).
    `short_empty_elements=False` writes empty elements in full (`<a></a>`)."""
    text = ET.tostring(root, encoding="unicode", short_empty_elements=short_empty_elements)
    return (DECLARATION + xml_text(text)).encode("utf-8")
