"""What masking contact details costs a public read: tellcity.core.text.mask_contacts per call
on a typical description and on 4,000-character ones (the form's limit), against a baseline
that only reads the text (`str.lower`, as cheap as touching every character once).

    python bench/masking.py [--number 2000]

Masking runs on every description and address of every public output (a page of 1,000 Open311
requests masks 2,000 texts), so the phone matcher, the only costly step, runs only on runs of
at least 7 digits that are not a date.
"""

import argparse
import timeit

from tellcity.core.text import mask_contacts

TYPICAL = (
    "Un trou profond sur la chaussée devant le 62 rue du Général Leclerc, depuis le "
    "12/03/2026. Dangereux pour les vélos."
)
TEXTS = {
    "typical description (116 chars)": TYPICAL,
    "typical, with an email and a phone": TYPICAL + " Appelez le 06 12 34 56 78 ou jean@example.fr",
    "4,000 chars of prose": ((TYPICAL + " ") * 40)[:4000],
    "4,000 chars of dates, times, numbers": (
        "Le 12/03/2026 à 14h30, 3 nids de poule entre le 12 et le 48, 92130 Issy. " * 60
    )[:4000],
    "4,000 chars ending with a phone": ((TYPICAL + " ") * 40)[:3980] + " tel 06 12 34 56 78",
}


def per_call(function, text: str, number: int) -> float:
    """The best of 5 runs, in microseconds per call."""
    return min(timeit.repeat(lambda: function(text), number=number, repeat=5)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=2000)
    number = parser.parse_args().number
    print(f"{'text':40s} {'masking µs':>11s} {'baseline µs':>12s} {'ratio':>7s}")
    for name, text in TEXTS.items():
        masking = per_call(mask_contacts, text, number)
        baseline = per_call(str.lower, text, number)
        print(f"{name:40s} {masking:11.1f} {baseline:12.2f} {masking / baseline:6.0f}x")


if __name__ == "__main__":
    main()
