"""Redirect targets that stay on this site: the one check for every return address a request
carries (the language switch's and sign-in's `next`, "me too" and follow's `next`, the staff
queue's `back`).

A target is read the way a browser reads a Location header (WHATWG URL standard): C0 controls
and spaces stripped from both ends, tabs and newlines removed anywhere, a backslash taken as a
slash. What is left must be a path that starts with exactly one "/", so it has no scheme and no
host. So does every form of it a browser, a proxy or an app further on might see:
percent-decoded (once, twice...) and NFKC-normalised (to some, the full-width solidus U+FF0F is
"/"). Anything else gives the fallback: no user is sent off the site by a crafted link
(`/%09/evil.example`, `/\\evil.example`, `/%2F/evil.example`, `https:evil.example`,
`java%0d%0ascript:...`).
"""

import unicodedata
from urllib.parse import unquote, urlsplit

from werkzeug.urls import iri_to_uri

#: What a browser strips from both ends of a URL: the C0 controls and the space.
_ENDS = "".join(chr(code) for code in range(0x21))
#: What a browser removes anywhere in a URL.
_TAB_AND_NEWLINES = str.maketrans("", "", "\t\n\r")
#: Rounds of percent-decoding a target may need before it stops changing: more is an attack.
DECODINGS = 3


def safe_next(target: str | None, fallback: str) -> str:
    """`target` as a path on this site, or `fallback` (a URL the app built) when a browser could
    read it as leading elsewhere. The answer is ASCII (other characters percent-encoded, as a
    Location header needs) and is the path the check read: tabs and newlines gone, backslashes
    made slashes."""
    if not isinstance(target, str) or not target:
        return fallback
    path = as_browser_reads(target)
    if not _stays_here(path):
        return fallback
    try:
        return iri_to_uri(path)
    except UnicodeError:  # a lone surrogate: no path anyone links to
        return fallback


def as_browser_reads(url: str) -> str:
    """`url` after a browser's first steps: ends stripped of controls and spaces, tabs and
    newlines removed, backslashes made slashes (as for http and https URLs)."""
    return url.strip(_ENDS).translate(_TAB_AND_NEWLINES).replace("\\", "/")


def _stays_here(path: str) -> bool:
    """Whether `path`, and each form of it decoding or normalising gives, is a local path."""
    layer = path
    for _ in range(DECODINGS + 1):
        normalised = as_browser_reads(unicodedata.normalize("NFKC", layer))
        if not (_is_local_path(as_browser_reads(layer)) and _is_local_path(normalised)):
            return False
        decoded = unquote(layer)
        if decoded == layer:
            return True
        layer = decoded
    return False


def _is_local_path(url: str) -> bool:
    """A path from this site's root: one leading slash, no scheme, no host, no control
    character (none is in a link a page of ours makes)."""
    if not url.startswith("/") or url.startswith("//"):
        return False
    if any(unicodedata.category(char) == "Cc" for char in url):
        return False
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc
