"""Normalising names for search across scripts and spellings.

Two uses:

* the exact blind index (`search_key`): Иванов, Іванов and Ivanov give the same key;
  Romanian ș/ş and ț/ţ, case, punctuation and the order of name parts do not matter;
* the token index of the person search (`cases.person_search`): each word of a name gives
  its form as written (`written_form`), the spellings other documents give it
  (`spellings`: the official Ukrainian and Russian transliterations, from translitua) and
  a key that ignores what those spellings disagree on (`sound_key`).

Nothing here is secret or keyed: `cases.person_search` turns these strings into keyed
digests before anything is stored or compared.
"""

import re
import unicodedata
from datetime import date

import translitua
from anyascii import anyascii

_NOT_LETTERS = re.compile(r"[^a-z ]+")
# Apostrophes join a word (Мар'яна, O'Brien); hyphens and spaces separate words.
_APOSTROPHES = re.compile(r"['\u2019\u02bc\u02b9\u0060\u00b4\u2032]")
_WORD = re.compile(r"[^\W\d_]+")
_NOT_LATIN_LETTERS = re.compile(r"[^a-z]+")

# Letters that tell a Cyrillic word's language, and so which transliterations it can have.
_UKRAINIAN_LETTERS = frozenset("іїєґ")
_RUSSIAN_LETTERS = frozenset("ыэъё")
# The spellings in identity documents and in other countries' registers. Ukrainian:
# the passport systems of 2010 (KMU) and 2007, BGN/PCGN and the German and French
# renderings; Russian: the passport systems of 2014 (ICAO Doc 9303) and 1997, and the
# driving licence. anyascii's reading is added for every script.
_SPELLINGS = {
    "uk": (translitua.UkrainianKMU, translitua.UkrainianPassport2007, translitua.UkrainianBGN,
           translitua.UkrainianGerman, translitua.UkrainianFrench),
    "ru": (translitua.RussianInternationalPassport, translitua.RussianInternationalPassport1997,
           translitua.RussianDriverLicense),
}

# What transliteration schemes (and typists) disagree on, reduced to one letter each, in
# this order: German and French spellings (w, ou, ue), hard c, x; every sibilant and
# affricate (s, z, sh, zh, ch, ts, sch, tsch, cz …); h, kh and g (Ukrainian г is h, Russian
# g); the glides written i, y or j (Mariia, Mariya, Marija); doubled letters.
_SOUND_RULES = tuple((re.compile(pattern), replacement) for pattern, replacement in (
    (r"ph", "f"), (r"th", "t"), (r"w", "v"), (r"ou", "u"), (r"(?<=[aou])e", ""),
    (r"ck|q|c(?=[aou])", "k"), (r"x", "ks"),
    (r"shch|schtsch|tsch|sch|tch|shh|sh|ch|ts|tz|cz|sz|zh|c|z", "s"),
    (r"kh|gh|g", "h"),
    (r"[iyj]+", "i"), (r"(?<![aeiou])i(?=[aeou])", ""),
    (r"(.)\1+", r"\1"),
))


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


# --- words of a name ---------------------------------------------------------------------

def name_words(*parts: str) -> list[str]:
    """The words of a name as typed, in order, each once: case folded, apostrophes removed,
    split at spaces, hyphens and punctuation."""
    text = _APOSTROPHES.sub("", unicodedata.normalize("NFC", " ".join(p for p in parts if p)))
    # Marks left after composing (the tie of i͡a in the Library of Congress romanisation)
    # would split a word.
    text = "".join(char for char in text if unicodedata.category(char) != "Mn")
    words = []
    for word in _WORD.findall(text.casefold()):
        if word not in words:
            words.append(word)
    return words


def _latin(text: str) -> str:
    """`text` in lower-case ASCII letters: diacritics folded (ş, ș → s; ü → u; ł → l)."""
    return _NOT_LATIN_LETTERS.sub("", anyascii(text).lower())


def is_latin(word: str) -> bool:
    return all(char.isascii() or "LATIN" in unicodedata.name(char, "") for char in word)


def written_form(word: str) -> str:
    """A word as written: a Latin word without its diacritics; any other script as it is
    (Марія stays Марія, so that only the same spelling in the same script is "exact")."""
    return _latin(word) if is_latin(word) else word


def _languages(word: str) -> tuple[str, ...]:
    letters = set(word)
    if letters & _UKRAINIAN_LETTERS:
        return ("uk",)
    if letters & _RUSSIAN_LETTERS:
        return ("ru",)
    if any("CYRILLIC" in unicodedata.name(char, "") for char in word):
        return ("uk", "ru")
    return ()


def spellings(word: str) -> set[str]:
    """The Latin spellings a word can have in documents: itself without diacritics for a
    Latin word; for a Cyrillic one its official transliterations (Марія → mariia, mariya,
    marija …). Empty strings are left out."""
    found = {_latin(word)}
    for language in _languages(word):
        found.update(_latin(translitua.translit(word, scheme))
                     for scheme in _SPELLINGS[language])
    found.discard("")
    return found


def sound_key(spelling: str) -> str:
    """A key shared by the spellings of one name across transliteration schemes and common
    misspellings of them: Mariia, Mariya, Marija and Maria; Shevchenko, Schewtschenko,
    Sevcenco; Hryhorii and Grigoriy. Vowels stay, so Maria and Mario differ."""
    key = spelling
    for pattern, replacement in _SOUND_RULES:
        key = pattern.sub(replacement, key)
    return key


# --- birth dates -------------------------------------------------------------------------

def swapped(birth_date: date) -> date | None:
    """The date with day and month swapped (3 May ↔ 5 March), when that is another valid
    date: the common mix-up between day-month and month-day orders."""
    if birth_date.day == birth_date.month or birth_date.day > 12:
        return None
    return birth_date.replace(month=birth_date.day, day=birth_date.month)
