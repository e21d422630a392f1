"""Contact details typed into public text are masked; references and numbers are not."""

import pytest

from tellcity.core.text import mask_contacts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Appelez le 06 12 34 56 78 svp", "Appelez le [numéro masqué] svp"),
        ("tel: 06.12.34.56.78", "tel: [numéro masqué]"),
        ("ou +33 6 12 34 56 78.", "ou [numéro masqué]."),
        ("0612345678", "[numéro masqué]"),
        ("écrivez à jean.dupont+ville@example.fr", "écrivez à [adresse masquée]"),
        ("Voir ISS-2026-000123", "Voir ISS-2026-000123"),
        ("En 2026, 15000 euros", "En 2026, 15000 euros"),
        ("", ""),
    ],
)
def test_contacts_are_masked_and_nothing_else(app, text, expected):
    assert mask_contacts(text) == expected
