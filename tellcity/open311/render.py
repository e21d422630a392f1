"""Open311 responses in JSON or XML, from the same data (lists and mappings of plain values, as
the schemas dump them). XML follows the spec's element names and is built with ElementTree,
so every text is escaped; JSON is the Spark convention's mapping of it."""

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from xml.sax.saxutils import escape

from flask import Response

from tellcity.core.xml import DECLARATION, xml_text

FORMATS = ("json", "xml")
CONTENT_TYPES = {
    "json": "application/json; charset=utf-8",
    "xml": "text/xml; charset=utf-8",
}

#: The element of each item of a list, by the list's name.
ITEM_NAMES = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "errors": "error",
    "service_request_updates": "request_update",
    "notes": "note",
    "photos": "photo",
    "endpoints": "endpoint",
    "formats": "format",
}
#: Fields left out of XML when null, rather than written empty: an empty date or number is
#: not one, and would trip a client's parser.
OMITTED_WHEN_NULL = frozenset({"lat", "long", "order", "support_count"})


def respond(fmt: str, root: str, data, status: int = 200) -> Response:
    """`data` as a response in `fmt`; `root` names the XML document element (`services`,
    `service_requests`...) and is not part of the JSON."""
    return Response(body(fmt, root, data), status=status, content_type=CONTENT_TYPES[fmt])


def body(fmt: str, root: str, data) -> bytes:
    if fmt == "xml":
        return to_xml(root, data)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace")


def errors_response(
    fmt: str, status: int, descriptions: list[str], error_code: str | None = None
) -> Response:
    """The Open311 error list: one {code, description} per problem, code the HTTP status as
    the spec has it; with the domain's machine-readable `error_code` (e.g. answer_required)
    beside it when there is one (clients ignore what they do not know)."""
    extra = {"error_code": error_code} if error_code else {}
    errors = [{"code": status, "description": text, **extra} for text in descriptions]
    return respond(fmt, "errors", errors, status)


def to_xml(root: str, data) -> bytes:
    """`data` as an XML document whose element is `root`, with the UTF-8 declaration. Empty
    elements are written in full (`<service_requests></service_requests>`).

    Written as text, not through ElementTree (whose tree and serialiser made a page of
    requests in XML cost nearly twice the JSON): the element names are the spec's and the
    schemas' own, text is escaped as ElementTree escapes it (&, <, >), and the characters
    XML cannot carry are dropped as for every document (tellcity.core.xml)."""
    parts: list[str] = []
    _write(parts, root, data)
    return (DECLARATION + xml_text("".join(parts))).encode("utf-8")


def _write(parts: list[str], name: str, value) -> None:
    if isinstance(value, Mapping):
        append = parts.append
        append(f"<{name}>")
        for key, item in value.items():
            # A mapping's text and empty fields written here, without a call each: a page of
            # requests has 1,700 of them (the same text as _write gives them).
            if item is None:
                if not _omitted(key):
                    append(f"<{key}></{key}>")
            elif type(item) is str:
                text = item.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
                append(f"<{key}>{text}</{key}>")
            else:
                _write(parts, key, item)
        append(f"</{name}>")
    elif isinstance(value, list | tuple):
        parts.append(f"<{name}>")
        item_name = ITEM_NAMES[name]
        for item in value:
            _write(parts, item_name, item)
        parts.append(f"</{name}>")
    else:
        text = "" if value is None else escape(_text(value))
        parts.append(f"<{name}>{text}</{name}>")


def _omitted(key: str) -> bool:
    return key.endswith("datetime") or key in OMITTED_WHEN_NULL


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


class RenderedCache:
    """Response bodies kept per key (city, language, format) with the digest of the data they
    were rendered from: a body is reused while the digest is the same and rendered again
    (replacing the old one) when it changes. Process-local and bounded; content-addressed,
    so it is never stale, whichever process changed the data."""

    def __init__(self, max_entries: int = 256):
        self.max_entries = max_entries
        self._entries: dict[tuple, tuple[str, bytes]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple, digest: str, render: Callable[[], bytes]) -> bytes:
        """The body for `key` rendered from data whose digest is `digest`."""
        entry = self._entries.get(key)
        if entry is not None and entry[0] == digest:
            return entry[1]
        rendered = render()
        with self._lock:
            self._entries.pop(key, None)
            while len(self._entries) >= self.max_entries:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = (digest, rendered)
        return rendered


#: The services lists, per city, language and format.
services_cache = RenderedCache()


class ItemsCache:
    """The rendered items of a list (each service request of a page), kept by what they were
    rendered from: an item is reused while everything it shows is the same, and rendered again
    as soon as anything differs. Content-addressed, so never stale whichever process changed
    the data; process-local and bounded (the oldest entries go first).

    A page of requests is one query whatever is kept; what is kept is the rest of its cost,
    masking contact details in each text, timestamps in the city's time and the encoding (two
    thirds of a page of 100 in CPU), done again for every client reading the same newest
    page. An item is found by its id and the hash of everything it is rendered from (the
    row's every column and the rendering's `context`); the item kept with it is taken only if
    that is the same."""

    def __init__(self, max_entries: int = 1000):
        self.max_entries = max_entries
        self._entries: dict[tuple, tuple[tuple, str]] = {}
        self._lock = threading.Lock()

    def items(
        self, context: tuple, rows: Sequence[tuple], render: Callable[[list], list[str]]
    ) -> list[str]:
        """The rendered item of each row (a tuple whose first field is its id), in order;
        `render` renders the rows not kept, in the given `context`."""
        keys = [(row[0], hash((context, row))) for row in rows]
        entries = self._entries
        found: list[str | None] = []
        missing = []
        for key, row in zip(keys, rows, strict=True):
            entry = entries.get(key)
            if entry is not None and entry[0] == (context, row):
                found.append(entry[1])
            else:
                found.append(None)
                missing.append(row)
        if missing:
            rendered = iter(render(missing))
            with self._lock:
                for n, (key, row) in enumerate(zip(keys, rows, strict=True)):
                    if found[n] is None:
                        found[n] = text = next(rendered)
                        entries.pop(key, None)
                        while len(entries) >= self.max_entries:
                            entries.pop(next(iter(entries)))
                        entries[key] = ((context, row), text)
        return found


def items_body(fmt: str, root: str, items: list[str]) -> bytes:
    """The document of a list whose items are rendered already (item_text): the same bytes as
    body(fmt, root, their data)."""
    if fmt == "xml":
        return (DECLARATION + f"<{root}>{''.join(items)}</{root}>").encode("utf-8")
    return ("[" + ",".join(items) + "]").encode("utf-8", "replace")


def item_text(fmt: str, root: str, item) -> str:
    """One item of a list named `root`, as items_body joins them."""
    if fmt == "xml":
        parts: list[str] = []
        _write(parts, ITEM_NAMES[root], item)
        return xml_text("".join(parts))
    return json.dumps(item, ensure_ascii=False, separators=(",", ":"))


#: The service requests of the lists, per format: a default page (1,000) each, some 2 MB.
request_items = {fmt: ItemsCache() for fmt in FORMATS}
