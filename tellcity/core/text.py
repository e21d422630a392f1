"""Text shown to the public: contact details typed into a description are masked."""

import re

from flask_babel import gettext as _

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
#: Phone numbers: French (06 12 34 56 78, 06.12.34.56.78, +33 6 12 34 56 78) and most
#: international forms (+ or 00, then 8 to 15 digits with the usual separators) — but not a
#: report reference such as ISS-2026-000123 nor a year or an amount.
PHONE = re.compile(r"(?<![\w-])(?:\+|0)\d?(?:[\s.\-/()]{0,2}\d){7,14}(?![\w])")


def mask_contacts(text: str | None) -> str:
    """`text` with email addresses and phone numbers replaced by a placeholder."""
    if not text:
        return ""
    # Translated only when something is found: most descriptions have nothing to mask.
    text = EMAIL.sub(lambda _match: _("[email hidden]"), text)
    return PHONE.sub(lambda _match: _("[phone hidden]"), text)
