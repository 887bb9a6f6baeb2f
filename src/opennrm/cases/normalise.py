"""Normalising names for exact search across scripts and spellings.

Иванов, Іванов and Ivanov give the same key; Romanian ș/ş and ț/ţ, case, punctuation and
the order of name parts do not matter.
"""

import re
from datetime import date

from anyascii import anyascii

_NOT_LETTERS = re.compile(r"[^a-z ]+")


def normalise_name(*parts: str) -> str:
    text = anyascii(" ".join(p for p in parts if p)).lower()
    tokens = _NOT_LETTERS.sub(" ", text).split()
    return " ".join(sorted(tokens))


def search_key(given_name: str, family_name: str, birth_date: date | None) -> str:
    """The text whose keyed hash is the person's blind index; empty when not searchable."""
    name = normalise_name(given_name, family_name)
    if not name or birth_date is None:
        return ""
    return f"{name}|{birth_date.isoformat()}"
