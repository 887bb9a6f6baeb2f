"""Code-list labels in Romanian, Ukrainian and Russian, with English as the fallback."""

import re

import pytest
from django import forms
from django.apps import apps
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState
from django.utils import translation

from opennrm.core import codelists

LANGUAGES = ("ro", "uk", "ru")
JSON_LISTS = sorted(p.stem for p in codelists.CODELIST_DIR.glob("*.json"))

# (list, code, language) whose label is rightly spelt as in English. Empty for now.
SAME_AS_ENGLISH: set[tuple[str, str, str]] = set()


def test_every_json_list_is_checked():
    assert "exploitation_forms" in JSON_LISTS and len(JSON_LISTS) >= 10


@pytest.mark.parametrize("name", JSON_LISTS)
def test_every_entry_has_translations(name):
    for entry in codelists.load(name)["codes"]:
        labels = entry.get("labels")
        assert isinstance(labels, dict), (name, entry["code"])
        assert set(labels) == set(LANGUAGES), (name, entry["code"])
        for language in LANGUAGES:
            translated = labels[language]
            assert isinstance(translated, str) and translated.strip(), (name, entry["code"])
            if (re.search(r"[A-Za-z]", entry["label"])
                    and (name, entry["code"], language) not in SAME_AS_ENGLISH):
                assert translated != entry["label"], (name, entry["code"], language)


def test_ukrainian_and_russian_labels_are_cyrillic():
    for name in JSON_LISTS:
        for entry in codelists.load(name)["codes"]:
            for language in ("uk", "ru"):
                assert not re.search(r"[A-Za-z]{3,}", entry["labels"][language].replace(
                    "ID", "")), (name, entry["code"], language)


def test_label_follows_the_active_language():
    with translation.override("uk"):
        assert codelists.label("exploitation_forms", "sexual_exploitation") == (
            "Сексуальна експлуатація")
    with translation.override("ro"):
        assert codelists.label("genders", "unknown") == "Necunoscut"
    with translation.override("ru"):
        assert codelists.label("exploitation_forms", "forced_labour") == (
            "Принудительный труд")
    with translation.override("en"):
        assert codelists.label("exploitation_forms", "sexual_exploitation") == (
            "Sexual exploitation")


def test_label_in_a_given_language():
    assert codelists.label("genders", "female", "ro") == "Feminin"
    assert codelists.label("genders", "female", "uk-ua") == "Жіноча"
    assert codelists.label("genders", "female", "ru_RU") == "Женский"
    assert codelists.label("genders", "female", "en") == "Female"


def test_no_active_language_means_english():
    with translation.override(None):
        assert translation.get_language() is None
        assert codelists.label("genders", "female") == "Female"
        assert codelists.label("countries", "DE") == "Germany"


@pytest.mark.parametrize("language, name", [("uk", "Німеччина"), ("ro", "Germania"),
                                            ("ru", "Германия"), ("en", "Germany")])
def test_countries_are_translated(language, name):
    assert codelists.label("countries", "DE", language) == name
    with translation.override(language):
        assert codelists.label("countries", "DE") == name


def test_languages_are_translated():
    assert codelists.label("languages", "ro", "uk") == "Румунська"
    assert codelists.label("languages", "uk", "ru") == "Украинский"
    assert codelists.label("languages", "ru", "ro") == "Rusă"
    assert codelists.label("languages", "ro", "en") == "Romanian"


def test_lazy_choice_label_is_rendered_in_the_active_language():
    labels = dict(codelists.choices("exploitation_forms"))
    with translation.override("ro"):
        assert str(labels["sexual_exploitation"]) == "Exploatare sexuală"
    with translation.override("uk"):
        assert str(labels["sexual_exploitation"]) == "Сексуальна експлуатація"
    with translation.override("en"):
        assert str(labels["sexual_exploitation"]) == "Sexual exploitation"


def test_form_built_at_import_time_renders_in_the_request_language():
    class Form(forms.Form):
        gender = forms.ChoiceField(choices=codelists.choices("genders"))
        country = forms.ChoiceField(choices=codelists.choices("countries"))

    with translation.override("uk"):
        html = str(Form())
    assert "Жіноча" in html and "Німеччина" in html
    assert "Female" not in html
    with translation.override("ro"):
        html = str(Form())
    assert "Feminin" in html and "Germania" in html


def test_unknown_code_is_its_own_label():
    assert codelists.label("genders", "no-such-code", "uk") == "no-such-code"
    assert codelists.label("countries", "ZZ", "ro") == "ZZ"
    with translation.override("ru"):
        assert codelists.label("means_of_control", "nonsense") == "nonsense"


def test_missing_translation_falls_back_to_english(monkeypatch):
    assert codelists.label("genders", "female", "fr") == "Female"
    assert codelists.label("countries", "DE", "xx") == "Germany"
    fake = {"female": {"code": "female", "label": "Female", "labels": {"ro": "Feminin"}},
            "male": {"code": "male", "label": "Male"}}
    monkeypatch.setattr(codelists, "entries", lambda name: fake)
    assert codelists.label("genders", "female", "uk") == "Female"
    assert codelists.label("genders", "female", "ro") == "Feminin"
    assert codelists.label("genders", "male", "ro") == "Male"


def test_load_keeps_english_labels_and_adds_translations():
    entry = codelists.entries("exploitation_forms")["sexual_exploitation"]
    assert entry["label"] == "Sexual exploitation"
    assert entry["labels"]["ru"] == "Сексуальная эксплуатация"
    assert entry["eurostat"] == "sexual"
    with translation.override("uk"):
        assert any(e["label"] == "Germany" for e in codelists.load("countries")["codes"])


def test_lazy_choices_do_not_change_migrations():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    changes = MigrationAutodetector(
        loader.project_state(), ProjectState.from_apps(apps)
    ).changes(graph=loader.graph)
    assert "cases" not in changes and "accounts" not in changes
