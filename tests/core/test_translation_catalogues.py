"""The interface is complete in Romanian, Ukrainian and Russian.

`makemessages` runs on a copy of the source tree, so a string added to a template or to the
code without a translation makes this test fail, as does a fuzzy or half-filled entry, or a
compiled catalogue (.mo) older than its source (.po).
"""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

import opennrm

SOURCE = Path(opennrm.__file__).parent
LANGUAGES = ("ro", "uk", "ru")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> Path:
    """The catalogues as `makemessages` leaves them after a fresh extraction."""
    copy = tmp_path_factory.mktemp("src") / "opennrm"
    shutil.copytree(SOURCE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    # -P: run from inside the package, `opennrm/statistics` must not hide the standard library.
    command = [sys.executable, "-P", "-m", "django", "makemessages", "--no-location",
               "--no-obsolete", "--ignore", "migrations/*",
               *(f"--locale={language}" for language in LANGUAGES)]
    subprocess.run(command, cwd=copy, check=True, capture_output=True, text=True,
                   env={"DJANGO_SETTINGS_MODULE": "tests.settings",
                        "PYTHONPATH": str(Path(__file__).parents[2]), "PATH": "/usr/bin:/bin"})
    return copy / "locale"


def missing_translations(catalogue: polib.POFile) -> list[str]:
    missing = []
    for entry in catalogue:
        if entry.obsolete:
            continue
        if "fuzzy" in entry.flags:
            missing.append(f"fuzzy: {entry.msgid!r}")
        elif entry.msgid_plural:
            if not entry.msgstr_plural or not all(entry.msgstr_plural.values()):
                missing.append(f"plural: {entry.msgid!r}")
        elif not entry.msgstr:
            missing.append(entry.msgid)
    return missing


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_interface_string_is_translated(extracted, language):
    catalogue = polib.pofile(str(extracted / language / "LC_MESSAGES" / "django.po"))
    assert len(catalogue) > 100, "the extraction found almost nothing: is makemessages broken?"
    missing = missing_translations(catalogue)
    assert not missing, f"{len(missing)} strings untranslated in {language}: {missing[:30]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_matches_its_source(language):
    folder = SOURCE / "locale" / language / "LC_MESSAGES"
    source = {(entry.msgctxt, entry.msgid): entry.msgstr
              for entry in polib.pofile(str(folder / "django.po"))
              if entry.translated() and not entry.msgid_plural}
    compiled = {(entry.msgctxt, entry.msgid): entry.msgstr
                for entry in polib.mofile(str(folder / "django.mo")) if not entry.msgid_plural}
    stale = {msgid for msgid, text in source.items() if compiled.get(msgid) != text}
    assert not stale, f"run `make messages`: django.mo is older than django.po ({len(stale)})"


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_survive_translation(language):
    """A translation that drops or renames %(name)s would crash or mislead at run time."""
    import re

    placeholder = re.compile(r"%\((\w+)\)[sdr]|\{\{ *(\w+) *\}\}")
    catalogue = polib.pofile(str(SOURCE / "locale" / language / "LC_MESSAGES" / "django.po"))
    broken = []
    for entry in catalogue.translated_entries():
        wanted = set(placeholder.findall(entry.msgid))
        texts = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for text in texts:
            if set(placeholder.findall(text)) - wanted - set(placeholder.findall(
                    entry.msgid_plural or "")):
                broken.append(entry.msgid)
            elif not entry.msgid_plural and set(placeholder.findall(text)) != wanted:
                broken.append(entry.msgid)
    assert not broken, broken
