"""Code lists: versioned data files in `codelists/`, plus ISO lists from pycountry.

A new country or a new standard version changes a data file, not the code.
"""

import json
from functools import cache
from pathlib import Path

import pycountry

CODELIST_DIR = Path(__file__).parent / "codelists"


@cache
def load(name: str) -> dict:
    """The whole code list file `name` (with its version and source)."""
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
    path = CODELIST_DIR / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def entries(name: str) -> dict[str, dict]:
    """The entries of a code list keyed by code (cached: do not change the result)."""
    return {entry["code"]: entry for entry in load(name)["codes"]}


def choices(name: str) -> list[tuple[str, str]]:
    """(code, label) pairs for a form field or model field."""
    return [(entry["code"], entry["label"]) for entry in load(name)["codes"]]


def label(name: str, code: str) -> str:
    entry = entries(name).get(code)
    return entry["label"] if entry else code


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
