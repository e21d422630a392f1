"""Contact details typed into public text are masked, however they are written; addresses,
dates, amounts, references and other numbers are not."""

import pytest

from tellcity.cities.models import City
from tellcity.core.text import contact_region, mask_contacts

PHONE, EMAIL = "[numéro masqué]", "[adresse masquée]"


def fullwidth(text: str) -> str:
    """`text` with its digits and @ as a Japanese or Chinese keyboard types them."""
    return text.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789@"})


#: Contact details as residents type them, one per line, each followed by what the public sees.
MASKED = [
    ("Appelez le 06 12 34 56 78 svp", f"Appelez le {PHONE} svp"),
    ("tel: 06.12.34.56.78", f"tel: {PHONE}"),
    ("ou +33 6 12 34 56 78.", f"ou {PHONE}."),
    ("0612345678", PHONE),
    ("mon portable 6 12 34 56 78", f"mon portable {PHONE}"),
    (fullwidth("0612345678"), PHONE),
    (f"tél : {fullwidth('06 12 34 56 78')} merci", f"tél : {PHONE} merci"),
    ("phone0612345678", f"phone{PHONE}"),
    ("appeler0612345678svp", f"appeler{PHONE}svp"),
    ("+33 (0)6 12 34 56 78", PHONE),
    ("(0)6 12 34 56 78", PHONE),
    ("0033612345678", PHONE),
    ("00 33 6 12 34 56 78", PHONE),
    ("+33612345678", PHONE),
    ("06-12-34-56-78", PHONE),
    ("06/12/34/56/78", PHONE),
    ("06 12 345 678", PHONE),
    ("0 6 1 2 3 4 5 6 7 8", PHONE),
    ("06\u00a012\u00a034\u00a056\u00a078", PHONE),  # no-break spaces
    ("06\u202f12\u202f34\u202f56\u202f78", PHONE),  # narrow no-break spaces
    ("06\u200912\u200934\u200956\u200978", PHONE),  # thin spaces
    ("06\u201112\u201134\u201156\u201178", PHONE),  # non-breaking hyphens
    ("06\u201312\u201334\u201356\u201378", PHONE),  # en dashes
    ("fixe 01 45 67 89 10 le soir", f"fixe {PHONE} le soir"),
    ("UK: +44 20 7946 0958", f"UK: {PHONE}"),
    ("écrivez à jean.dupont+ville@example.fr", f"écrivez à {EMAIL}"),
    ("jean (at) gmail.com", EMAIL),
    ("jean[at]gmail[dot]com", EMAIL),
    ("jean @ gmail . com", EMAIL),
    ("jean at gmail dot com", EMAIL),
    ("jean arobase orange point fr", EMAIL),
    ("jean(a)free.fr", EMAIL),
    ("jean {at} free {dot} fr", EMAIL),
    ("Jean.Dupont [AT] Laposte [DOT] net", EMAIL),
    (fullwidth("jean@gmail.com"), EMAIL),
    ("mail: jean.dupont @ wanadoo.fr, merci", f"mail: {EMAIL}, merci"),
    ("0612345678@free.fr", EMAIL),
    # Beside other numbers, which stay.
    ("tel 06 12 34 56 78 92130 Issy", f"tel {PHONE} 92130 Issy"),
    ("2026 06 12 34 56 78", f"2026 {PHONE}"),
    ("appelez 06 12 34 56 78 1 fois", f"appelez {PHONE} 1 fois"),
    ("06 12 34 56 78 07 11 22 33 44", f"{PHONE} {PHONE}"),
    ("+33612345678-92130 Issy", f"{PHONE}-92130 Issy"),
    ("(0612345678)-3 fois", f"{PHONE})-3 fois"),
    (
        "Contact : jean@example.fr ou 06 12 34 56 78 (après 18h)",
        f"Contact : {EMAIL} ou {PHONE} (après 18h)",
    ),
]

#: Ordinary texts, addresses among them, that must be shown as they were typed.
UNCHANGED = [
    "62 rue du Général Leclerc, 92130 Issy-les-Moulineaux",
    "47 rue Ernest Renan, 92130 Issy-les-Moulineaux",
    "Place de l'Hôtel de Ville, 92130",
    "Voir ISS-2026-000123",
    "Voir ISS-2026-000123 et ISS-2026-000124",
    "En 2026, 15000 euros",
    "Trou signalé le 12/03/2026 à 14h30",
    "le 12.03.2026 vers 8h",
    "depuis le 2026-03-12T14:30",
    "Ouvert de 8h30 à 17h45",
    "14:30:00",
    "Devis de 12 345,67 € pour 1 250 000 euros de travaux",
    "Budget 2026 : 1 250 000 000 euros",
    "SIRET 123 456 789 00012",
    "Un budget de 767 923 455 euros",
    "Position 48.8245123 2.2735123",
    "Passé à 16:55 avec 8 769 547 euros de travaux",
    "Tel. (410) 555-0123 21201",  # no French number: an American one, read in France
    "Voiture AB-123-CD garée sur le trottoir",
    "Ligne de bus 123, arrêt n° 4512",
    "Lampadaire n° 0612 éteint",
    "Position 48.8245, 2.2735",
    "coords 48.8245123,2.2735123",
    "3 nids de poule entre le 12 et le 48",
    "Réf. 2026/03/12-001",
    "Look at him, point blank",
    "rdv @ mairie. Merci",
    "Un trou profond sur la chaussée, dangereux pour les vélos.",
    "",
]


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_contacts_are_masked_however_they_are_written(app, text, expected):
    assert mask_contacts(text) == expected


@pytest.mark.parametrize("text", UNCHANGED)
def test_addresses_dates_amounts_and_references_are_left(app, text):
    assert mask_contacts(text) == text


def test_numbers_without_country_code_are_read_as_the_city_country(app):
    baltimore = City(holiday_country="US", locale="en")
    assert contact_region(baltimore) == "US"
    assert mask_contacts("call (410) 555-0123", contact_region(baltimore)) == f"call {PHONE}"
    # In France, a (410) 555 is no number: a house number and a code are left there.
    assert mask_contacts("call (410) 555-0123", "FR") == "call (410) 555-0123"


def test_the_region_comes_from_the_locale_else_france():
    assert contact_region(City(holiday_country=None, locale="fr_BE")) == "BE"
    assert contact_region(City(holiday_country=None, locale="fr")) == "FR"
