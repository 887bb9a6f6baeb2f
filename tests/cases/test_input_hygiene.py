"""Input hygiene of a person's identity: every field has a length and a count limit,
control and text-direction characters are refused with a field message, telephones are
parsed by country and stored in E.164, and exports cannot carry spreadsheet formulas."""

import csv
import io

import pytest
from django.core.exceptions import ValidationError
from openpyxl import Workbook

from opennrm.cases import services
from opennrm.cases.exports import export_cases_csv
from opennrm.core.spreadsheets import neutralise_formulas, safe_text
from opennrm.core.validation import CountLimit, TextLimit, unsafe_characters
from tests.factories import make_agency, make_case, make_user
from tests.helpers import ApiClient, assert_problem


def refused(actor, case, changes) -> dict:
    with pytest.raises(ValidationError) as error:
        services.update_case(actor, case, changes)
    return error.value.message_dict


# --- lengths and counts --------------------------------------------------------------------

def test_aliases_have_a_count_and_a_length_limit(caseworker, case):
    assert "aliases" in refused(caseworker, case,
                                {"aliases": [f"Name {n}" for n in range(200)]})
    assert "aliases" in refused(caseworker, case, {"aliases": ["x" * 5000]})
    services.update_case(caseworker, case,
                         {"aliases": [f"Name {n}" for n in range(CountLimit.ALIASES)]})
    case.person.refresh_from_db()
    assert len(case.person.aliases) == CountLimit.ALIASES


def test_documents_have_a_count_and_a_number_length_limit(caseworker, case):
    many = [{"document_type": "passport", "number": f"AB{n}"} for n in range(200)]
    assert "identity_documents" in refused(caseworker, case, {"identity_documents": many})
    long = [{"document_type": "passport", "number": "9" * 5000}]
    messages = refused(caseworker, case, {"identity_documents": long})["identity_documents"]
    assert messages[0].startswith("Document 1:")
    assert str(TextLimit.DOCUMENT_NUMBER) in messages[0]


def test_the_api_states_and_applies_the_limits(caseworker, case):
    api = ApiClient(caseworker)
    document = api.get("/api/openapi.json").json()["components"]["schemas"]
    fields = document["CaseChanges"]["properties"]
    assert fields["aliases"]["anyOf"][0]["maxItems"] == CountLimit.ALIASES
    assert fields["aliases"]["anyOf"][0]["items"]["maxLength"] == TextLimit.IDENTITY
    assert fields["identity_documents"]["anyOf"][0]["maxItems"] \
        == CountLimit.IDENTITY_DOCUMENTS
    assert document["IdentityDocument"]["properties"]["number"]["maxLength"] \
        == TextLimit.DOCUMENT_NUMBER
    assert "female" in document["CaseRegistration"]["properties"]["gender"]["enum"]
    problem = assert_problem(api.patch(f"/api/cases/{case.case_number}",
                                       {"aliases": ["Ana"] * 200}), 422)
    assert problem["errors"][0]["field"] == "aliases"


# --- characters ----------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "Ele\x1b[31mna",  # a terminal escape
    "Elena\u202egnp.exe",  # right-to-left override
    "Ele\u2066na\u2069",  # isolates
    "Ele\u200fna",  # right-to-left mark
    "Ele\u061cna",  # Arabic letter mark
    "Ele\x07na",  # bell
    "Ele\x85na",  # C1 control
    "Ele\nna",  # no line break in a name
])
@pytest.mark.parametrize("field", ["given_name", "family_name", "aliases", "phone",
                                   "identity_documents"])
def test_control_and_direction_characters_are_refused(caseworker, case, field, text):
    value = {"aliases": [text], "identity_documents": [{"number": text}],
             "phone": "+3736" + text}.get(field, text)
    messages = refused(caseworker, case, {field: value})[field]
    assert any("U+" in message for message in messages), messages
    case.person.refresh_from_db()
    assert case.person.given_name == "Elena"


def test_free_text_keeps_line_breaks_tabs_and_direction_marks(caseworker, case):
    services.update_case(caseworker, case, {"notes": "Line one\n\tLine two \u200fعربي",
                                            "address": "str. Ștefan cel Mare 1\nChișinău"})
    assert "notes" in refused(caseworker, case, {"notes": "Bad \x1b[2J escape"})


def test_the_check_names_each_character():
    assert unsafe_characters("a\u202eb\x1bc") == ["U+001B", "U+202E"]
    assert unsafe_characters("Иванов Ștefan 王") == []


# --- telephones ----------------------------------------------------------------------------

@pytest.mark.parametrize("typed, stored", [
    ("+373 69 123 456", "+37369123456"),
    ("069 123 456", "+37369123456"),  # national form of the agency's country (MD)
    ("(069) 12-34-56", "+37369123456"),
    ("+44 20 7946 0958", "+442079460958"),
    ("0044 20 7946 0958", "+442079460958"),
])
def test_telephones_are_stored_in_e164(caseworker, case, typed, stored):
    services.update_case(caseworker, case, {"phone": typed})
    case.person.refresh_from_db()
    assert case.person.phone == stored


def test_the_national_form_is_read_for_the_agencys_country(db):
    agency = make_agency("la-strada-ua", "ngo", country="UA")
    case = make_case(make_user("caseworker", agency), phone="067 123 4567")
    assert case.person.phone == "+380671234567"


@pytest.mark.parametrize("typed", ["call me maybe", "1", "+373", "12345678901234567890"])
def test_a_text_that_is_no_telephone_is_refused(caseworker, case, typed):
    messages = refused(caseworker, case, {"phone": typed})["phone"]
    assert "telephone number" in messages[0]


def test_the_web_form_shows_the_field_message(client, caseworker, case):
    client.force_login(caseworker)
    response = client.post(f"/cases/{case.case_number}/edit/", {
        "given_name": "Elena", "family_name": "Popescu", "phone": "call me maybe",
        "aliases": "Lena\nEle\u202ena", "gender": "female", "first_contact_on": "2026-03-02"})
    text = response.content.decode()
    assert response.status_code == 200
    assert "telephone number" in text and "U+202E" in text
    case.person.refresh_from_db()
    assert case.person.phone == "+37369123456"


# --- exports -------------------------------------------------------------------------------

@pytest.mark.parametrize("text, safe", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("-5", "-5"), ("-", "-"), ("Elena", "Elena"), ("+37369123456", "+37369123456"),
])
def test_a_spreadsheet_formula_is_neutralised(text, safe):
    assert safe_text(text) == safe


def test_the_case_export_carries_no_formula(caseworker):
    make_case(caseworker, given_name="=HYPERLINK(\"http://evil\",\"x\")", family_name="@SUM")
    out = io.StringIO()
    export_cases_csv(caseworker, "Audit", out, include_identity=True)
    row = list(csv.DictReader(io.StringIO(out.getvalue())))[0]
    assert row["given_name"].startswith("'=")
    assert row["family_name"] == "'@SUM"


def test_an_excel_cell_that_would_be_a_formula_is_text():
    workbook = Workbook()
    workbook.active["A1"] = "=1+1"
    assert workbook.active["A1"].data_type == "f"
    neutralise_formulas(workbook)
    assert workbook.active["A1"].data_type == "s"
    assert workbook.active["A1"].value == "=1+1"
