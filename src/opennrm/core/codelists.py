"""Code lists: versioned data files in `codelists/`, plus ISO lists from pycountry.

A new country or a new standard version changes a data file, not the code.

Each entry of a data file has an English `label` (also the fallback) and a `labels`
object with its translations ({"ro": …, "uk": …, "ru": …}). Countries and languages
are translated with the gettext catalogues that pycountry ships.
"""

import gettext
from functools import cache
from pathlib import Path

import pycountry
from django.utils import translation
from django.utils.functional import lazy

from opennrm.core import datafiles

CODELIST_DIR = Path(__file__).parent / "codelists"

# Every file is checked against core/schemas/codelist.schema.json when it loads.
CODE_LISTS = datafiles.register(datafiles.DataKind(
    name="code list",
    schema=Path(__file__).parent / "schemas" / "codelist.schema.json",
    folders=lambda: [CODELIST_DIR],
    check=datafiles.checks(datafiles.name_is_file_name(), datafiles.unique("codes", "code")),
))

# The gettext domains of pycountry's catalogues (files in pycountry.LOCALES_DIR/xx/LC_MESSAGES).
PYCOUNTRY_DOMAINS = {"countries": "iso3166-1", "languages": "iso639-3"}


@cache
def load(name: str) -> dict:
    """The whole code list file `name` (with its version and source), labels in English."""
    if name == "countries":
        return {
            "name": "countries",
            "version": f"ISO 3166-1 (pycountry {pycountry.__version__})",
            "codes": [{"code": c.alpha_2, "label": c.name} for c in pycountry.countries],
        }
    if name == "languages":
        return {
            "name": "languages",
            "version": f"ISO 639 (pycountry {pycountry.__version__})",
            "codes": [
                {"code": lang.alpha_2 if hasattr(lang, "alpha_2") else lang.alpha_3,
                 "label": lang.name}
                for lang in pycountry.languages
            ],
        }
    # Only names of files in the folder: a name is never turned into an arbitrary path.
    if name not in {p.stem for p in CODELIST_DIR.glob("*.json")}:
        raise KeyError(f"unknown code list {name!r}")
    return CODE_LISTS.load(CODELIST_DIR / f"{name}.json")


@cache
def entries(name: str) -> dict[str, dict]:
    """The entries of a code list keyed by code (cached: do not change the result)."""
    return {entry["code"]: entry for entry in load(name)["codes"]}


def _language(language: str | None) -> str:
    """The base language code ("uk-ua" → "uk"): `language`, else the active one, else "en"."""
    if language is None:
        language = translation.get_language()
    if not language:
        return "en"
    return language.replace("_", "-").split("-")[0].lower()


@cache
def _catalogue(domain: str, language: str) -> gettext.NullTranslations:
    """pycountry's gettext catalogue for `domain` in `language` (English when it has none)."""
    return gettext.translation(domain, pycountry.LOCALES_DIR, languages=[language],
                               fallback=True)


def label(name: str, code: str, language: str | None = None) -> str:
    """The label of `code` in `language` (default: the active one), else in English.

    An unknown code is its own label.
    """
    entry = entries(name).get(code)
    if entry is None:
        return code
    english = entry["label"]
    language = _language(language)
    if language == "en":
        return english
    if name in PYCOUNTRY_DOMAINS:
        translated = _catalogue(PYCOUNTRY_DOMAINS[name], language).gettext(english)
        # pycountry writes language names in lower case, as these languages do in a
        # sentence; in a list or a select box they start with a capital.
        return translated[:1].upper() + translated[1:] if translated else english
    return entry.get("labels", {}).get(language) or english


# A label that is looked up when it is shown, in the language active then.
lazy_label = lazy(label, str)


def choices(name: str) -> list[tuple[str, str]]:
    """(code, label) pairs for a form field or model field.

    The labels are lazy: a field defined at import time shows them in the language of
    the request that renders it. Migrations see English: lazy strings compare by value,
    and makemigrations runs in the default language (LANGUAGE_CODE, English).
    """
    return [(entry["code"], lazy_label(name, entry["code"])) for entry in load(name)["codes"]]


def sorted_choices(name: str, codes=None) -> list[tuple[str, str]]:
    """(code, label) pairs in the active language, sorted as that language sorts its words
    (Ș after S in Romanian, Є after Е in Ukrainian), for a long list such as countries.

    `codes`: only these codes of the list (default: all of them). Read at render time, so a
    form field takes it as a callable: `choices=partial(sorted_choices, "countries")`.
    """
    ordered = _sorted_codes(name, _language(None))
    if codes is None:
        return list(ordered)
    wanted = set(codes)
    return [(code, text) for code, text in ordered if code in wanted]


@cache
def _sorted_codes(name: str, language: str) -> tuple[tuple[str, str], ...]:
    labelled = [(entry["code"], label(name, entry["code"], language))
                for entry in load(name)["codes"]]
    key = _collation_key(language)
    return tuple(sorted(labelled, key=lambda pair: key(pair[1])))


def _collation_key(language: str):
    """The sort key of `language`: ICU's collation (the CLDR rules of each language) when
    PyICU is installed (it builds against the system's ICU library, so it is optional);
    otherwise the Unicode Collation Algorithm's default order (pyuca, pure Python), which
    puts "Åland" by "Aland", "Österreich" by "Osterreich" and Ukrainian І after И in every
    language, but not each language's own tailoring (Romanian Ș after S, Ukrainian І
    before Ї)."""
    try:
        import icu  # noqa: PLC0415 - optional: needs the system's ICU library
    except ImportError:
        return _default_collator().sort_key
    return icu.Collator.createInstance(icu.Locale(language)).getSortKey


@cache
def _default_collator():
    from pyuca import Collator  # noqa: PLC0415 - loads its table (a few MB) when first used

    return Collator()


def unknown_codes(name: str, values) -> list[str]:
    """The values that are not codes of the list `name` (empty when all are valid)."""
    known = entries(name)
    return [value for value in values if value not in known]


def age_band(age: int) -> str:
    for entry in load("age_bands")["codes"]:
        if entry["min"] <= age <= entry["max"]:
            return entry["code"]
    raise ValueError(f"age {age} is outside every age band")


def available() -> list[str]:
    return sorted(["countries", "languages", *(p.stem for p in CODELIST_DIR.glob("*.json"))])
