"""Text shown to the public: contact details typed into a report are masked.

Every public output (the API, Open311, the public pages, feeds and open data) shows a report's
description and address through `public_text`, and any other public text (answers, replies)
through `mask_contacts`; staff pages show the report as it was typed.

Phone numbers are found by `phonenumbers` (Google's libphonenumber) in a normalised copy of
the text, with the city's country as the region of numbers written without a country code;
email addresses by the patterns below, including the usual ways of spelling them out.

Cost and limits (bench/masking.py measures it): a text without PHONE_MIN_DIGITS digits close
together, dates aside, never reaches the phone matcher, and most descriptions have none, so
masking them is a few regex searches, about 5 µs for a typical description and 0.2 ms for
4,000 characters; the matcher then reads only the runs of digits, about 0.1 ms each. Numbers
the matcher does not take for possible phone numbers of the region, or that are not written as
one (`_is_phone`: dates, times, postcodes, amounts, coordinates, references) are left; so is a
number spelt out in words, broken up by more than four characters or a comma between two of
its digits, or glued by a dash to another number."""

import bisect
import itertools
import re
import unicodedata
from typing import NamedTuple

import phonenumbers
from flask_babel import gettext as _
from jinja2 import pass_context
from phonenumbers import Leniency, PhoneNumberMatcher

#: The region of numbers written without a country code when the city says nothing.
DEFAULT_REGION = "FR"
#: Fewer digits than this, each within four characters of the next, is no phone number: the
#: matcher, the only costly step, is skipped (the shortest numbers of most countries are 8
#: digits or more; 7 leaves a margin).
PHONE_MIN_DIGITS = 7
#: What stands between the digits of a phone number: spaces, dots, dashes, slashes, brackets
#: (ASCII, unicode and full-width); not a comma, which ends "le 48, 92130".
_PHONE_PUNCTUATION = r"[\s.\-/()\u2010-\u2015\u2212\uff08\uff09\uff0d\uff0e\uff0f]"
_DIGIT_RUN = re.compile(rf"\d(?:{_PHONE_PUNCTUATION}{{0,4}}\d){{{PHONE_MIN_DIGITS - 1},}}")
#: How many parts of a run of digits are tried when the run as a whole is no number.
PART_TRIES = 12
#: Dates (12/03/2026, 12.03.26, 2026-03-12), which are no phone numbers but have as many digits,
#: are taken out of a run before counting: a description giving a date skips the matcher too.
_DATE = re.compile(
    r"(?<![\d/.-])(?:\d\d?([/.-])\d\d?\1\d\d(?:\d\d)?|\d{4}([/.-])\d\d\2\d\d)(?![/.-]?\d)"
)

#: A plain address: name@domain.tld, no spaces.
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_OPEN, _CLOSE = r"\s*[(\[{<]\s*", r"\s*[)\]}>]\s*"
_AT = rf"(?:\s*@\s*|{_OPEN}(?:at|@|arobase|a){_CLOSE}|\s+(?:at|arobase)\s+)"
_DOT = rf"(?:\s*\.\s*|{_OPEN}(?:dot|point|\.){_CLOSE}|\s+(?:dot|point)\s+)"
#: The top-level domains an address spelt out ("jean at gmail dot com", "jean [at] free [.]
#: fr", "jean @ gmail . com") must end with: without them, "look at him point blank" would be
#: an address. A spelt-out address elsewhere is left.
_TLDS = "com|fr|org|net|eu|info|biz|io|be|ch|lu|de|es|it|uk|co|us|ca|me|gouv|email|mail"
SPELT_EMAIL = re.compile(
    rf"(?<![\w.+-])[\w.+-]+{_AT}[\w-]+(?:{_DOT}[\w-]+)*?{_DOT}(?:{_TLDS})(?![\w-])",
    re.IGNORECASE,
)
#: Something that could start an address, spelt out or not, in the lowercased text: the
#: patterns run only then (substring tests cost a hundredth of a regex search).
_AT_CUES = (
    "@",
    "\uff20",
    "arobase",
    " at ",
    "at)",
    "at )",
    "at]",
    "at }",
    "at}",
    "at>",
    "(a)",
    "[a]",
)

#: Letters glued to digits ("phone0612345678", "0612345678merci"): split in the copy the
#: matcher reads, which takes a number only where it stands apart.
_GLUED = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")
#: 06/12/34/56/78: the matcher reads slashes as a date; four or more of them are a number.
_SLASHED = re.compile(r"\d\d(?:/\d\d){4,}")
#: A decimal number (a coordinate, a measure) is not a phone number, however many digits.
_DECIMAL = re.compile(r"\d{1,3}[.,]\d+")
_DECIMAL_MARK_BEFORE = re.compile(r"\d[.,]$")
_DECIMAL_MARK_AFTER = re.compile(r"[.,]\d")
#: An amount written with its thousands apart (767 923 455), which is no phone number.
_THOUSANDS = re.compile(r"(?:\d{1,3}\s)?\d{1,3}(?:[\s.]\d{3})+")
#: The end of a time or a fraction (18h56, 16:55, 3/9) just before a number: it is part of it.
_TIME_BEFORE = re.compile(r"(?:\dh|[:/])$")


class PublicText(NamedTuple):
    """A report's own text as anyone may read it."""

    description: str
    address: str


def public_text(report, region: str | None = None) -> PublicText:
    """The description and address of `report` (a Report, or a row with those two columns and
    `region` given) with contact details masked: what every public output shows of them."""
    region = region or contact_region(report.city)
    return PublicText(
        mask_contacts(report.description, region), mask_contacts(report.address, region)
    )


def contact_region(city) -> str:
    """The country whose phone numbers the residents of `city` write without a country code:
    the country of its holiday calendar, else the one its locale names (fr_BE), else France."""
    candidates = [getattr(city, "holiday_country", None)]
    locale = (getattr(city, "locale", None) or "").replace("-", "_")
    candidates.append(locale.partition("_")[2])
    for candidate in candidates:
        if candidate and candidate.upper() in phonenumbers.SUPPORTED_REGIONS:
            return candidate.upper()
    return DEFAULT_REGION


def mask_contacts(text: str | None, region: str = DEFAULT_REGION) -> str:
    """`text` with email addresses and phone numbers replaced by a placeholder; numbers written
    without a country code are read as numbers of `region` (ISO 3166 code)."""
    if not text:
        return ""
    # One search first (most texts have no run of digits), the cues without a Python loop:
    # this is what most texts cost, some 300 times for a page of 100 Open311 requests.
    has_digits = _DIGIT_RUN.search(text) is not None and any(
        _could_be_phone(run) for run in _DIGIT_RUN.finditer(text)
    )
    lowered = text.lower()
    if not has_digits and not any(map(lowered.__contains__, _AT_CUES)):
        return text
    copy, origin = _normalised(text)
    emails = [_span(m.start(), m.end(), origin) for m in _emails(copy)]
    phones = _phones(copy, origin, region, emails) if has_digits else []
    if not emails and not phones:
        return text
    # Translated only when something is found: most texts have nothing to mask.
    hidden = [(span, _("[email hidden]")) for span in emails]
    hidden += [(span, _("[phone hidden]")) for span in phones]
    for (start, end), placeholder in sorted(hidden, reverse=True):
        text = text[:start] + placeholder + text[end:]
    return text


@pass_context
def mask_contacts_filter(context, text: str | None) -> str:
    """Jinja's `mask_contacts`, with the region of the page's city."""
    city = context.get("city")
    return mask_contacts(text, contact_region(city) if city is not None else DEFAULT_REGION)


def _normalised(text: str) -> tuple[str, list[int] | None]:
    """NFKC of `text` (full-width digits and @, unicode spaces), and the position in `text` of
    each of its characters: None when they are the same."""
    if text.isascii() or unicodedata.is_normalized("NFKC", text):
        return text, None
    pieces, origin = [], []
    for position, character in enumerate(text):
        piece = unicodedata.normalize("NFKC", character)
        pieces.append(piece)
        origin.extend([position] * len(piece))
    return "".join(pieces), origin


def _span(start: int, end: int, origin: list[int] | None) -> tuple[int, int]:
    """A span of the normalised copy as a span of the text it was made from."""
    return (start, end) if origin is None else (origin[start], origin[end - 1] + 1)


def _emails(copy: str) -> list[re.Match]:
    found = list(EMAIL.finditer(copy)) if "@" in copy else []
    lowered = copy.lower()
    if any(cue in lowered for cue in _AT_CUES):
        taken = [(m.start(), m.end()) for m in found]
        for match in SPELT_EMAIL.finditer(copy):
            if not any(match.start() < end and start < match.end() for start, end in taken):
                found.append(match)
    return found


def _phones(copy: str, origin, region: str, emails: list) -> list[tuple[int, int]]:
    """The spans in the original text of the phone numbers in its normalised `copy`, but for
    those inside an email address (a number as the name of a mailbox)."""
    spans = (_span(start, end, origin) for start, end in _matched(copy, region))
    return [
        span
        for span in spans
        if not any(span[0] < e_end and e_start < span[1] for e_start, e_end in emails)
    ]


def _matched(copy: str, region: str) -> list[tuple[int, int]]:
    """The spans of the phone numbers in `copy`. The matcher reads only the runs of digits that
    could be one, with the few characters around them (+, a bracket): its cost grows with the
    text it is given, and a long description has many numbers that could not be."""
    spans = []
    for run in _DIGIT_RUN.finditer(copy):
        if not _could_be_phone(run):
            continue
        found = _matched_in(copy, max(run.start() - 4, 0), run.end() + 1, region)
        spans += found or _matched_in_part(copy, run, region)
    return spans


def _could_be_phone(run: re.Match) -> bool:
    """Whether a run of digits still has enough of them once the dates in it are taken out."""
    return _DIGIT_RUN.search(_DATE.sub(" ", run[0])) is not None


def _matched_in(copy: str, start: int, end: int, region: str) -> list[tuple[int, int]]:
    """The spans of the phone numbers the matcher finds in copy[start:end]."""
    window, spaces = _split(copy[start:end])
    spans = []
    for match in PhoneNumberMatcher(window, region, leniency=Leniency.POSSIBLE):
        first = start + match.start - bisect.bisect_left(spaces, match.start)
        last = start + match.end - bisect.bisect_left(spaces, match.end)
        if _is_phone(match, copy[max(first - 3, 0) : first], copy[last : last + 2]):
            spans.append((first, last))
    return spans


def _is_phone(match, before: str, after: str) -> bool:
    """Whether what the matcher found, between `before` and `after`, is written as a phone
    number. A number with a country code or a trunk prefix (+33, 0033, 06, (0)6) is; one
    without (6 12 34 56 78) must be a valid number of the region, all in one or in three or
    more small groups, not grouped by thousands like an amount (767 923 455) nor just after a
    time (18h56, 16:55); and no part of a decimal number (a coordinate: 48.8245123) is."""
    raw = match.raw_string.lstrip("( ")
    if _DECIMAL.fullmatch(raw) or _DECIMAL_MARK_BEFORE.search(before):
        return False
    if _DECIMAL_MARK_AFTER.match(after) or _TIME_BEFORE.search(before):
        return False
    if raw[:1] in ("+", "0"):
        return True
    groups = [len(group) for group in re.findall(r"\d+", raw)]
    return (
        phonenumbers.is_valid_number(match.number)
        and (len(groups) == 1 or (len(groups) >= 3 and max(groups) <= 4))
        and not _THOUSANDS.fullmatch(raw)
        and not after.startswith((":", "h", "/"))
    )


def _matched_in_part(copy: str, run: re.Match, region: str) -> list[tuple[int, int]]:
    """The phone numbers in a run of digits the matcher takes for no number as a whole: one
    with other numbers beside it ("06 12 34 56 78 92130 Issy", "2026 06 12 34 56 78"). Its
    parts made of whole groups of digits are tried, longest first, when they start as a
    number is written (+, 0 or a bracket), apart from the group before (not 555-0123), and
    have 8 to 15 digits; the matcher must take a part whole. At most PART_TRIES parts a run:
    ordinary numbers cost little."""
    groups = [(run.start() + a, run.start() + b) for a, b in _groups(run[0])]
    apart = [True] + [_apart(copy[a[1] : b[0]]) for a, b in itertools.pairwise(groups)]
    spans, first, tries = [], 0, 0
    while first < len(groups) and tries < PART_TRIES:
        start = groups[first][0]
        if start and copy[start - 1] in "+(":
            start -= 1
        if copy[start] not in "+(0" or not apart[first]:
            first += 1
            continue
        for last in range(min(len(groups), first + 8) - 1, first - 1, -1):
            end = groups[last][1]
            if not 8 <= sum(b - a for a, b in groups[first : last + 1]) <= 15:
                continue
            tries += 1
            if [(start, end)] == _matched_in(copy, start, end, region):
                spans.append((start, end))
                first = last
                break
        first += 1
    return spans


def _apart(separator: str) -> bool:
    """Whether two groups of digits are set apart, rather than joined by a dash, dot or slash."""
    return len(separator) > 1 or separator not in "-./"


def _groups(run: str) -> list[tuple[int, int]]:
    return [match.span() for match in re.finditer(r"\d+", run)]


def _split(window: str) -> tuple[str, list[int]]:
    """`window` as the matcher should read it: slashes between pairs of digits as spaces,
    letters glued to digits split by a space; and where the spaces put in stand, to take
    them out of a match's span."""
    window = _SLASHED.sub(lambda match: match[0].replace("/", " "), window)
    cuts = [match.start() for match in _GLUED.finditer(window)]
    if not cuts:
        return window, []
    pieces = zip([0, *cuts], [*cuts, len(window)], strict=True)
    return " ".join(window[a:b] for a, b in pieces), [cut + n for n, cut in enumerate(cuts)]
