"""The criminal-justice side in a real browser: the investigator opens a criminal case,
records two suspects and links one victim's case of an NGO; the victim's caseworker sees
the stage of the proceedings, and nothing of the investigation; the analyst sees the
counts in the statistics."""

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from opennrm.accounts.models import Role
from opennrm.cases import services as case_services
from opennrm.justice import services as justice
from opennrm.justice.models import CriminalCase, SuspectedPerson
from tests.e2e.browser import assert_accessible, open_page, screenshot, sign_in
from tests.factories import make_agency, make_user, person_data

pytestmark = pytest.mark.browser

REFERENCE = "2026/0815-THB"


@pytest.fixture
def victims_case(transactional_db, live_server):
    ngo = make_agency("la-strada", "ngo")
    police = make_agency("police-chisinau", "law_enforcement")
    police.name = "Police Anti-Trafficking Unit"
    police.save()
    make_user(Role.CASEWORKER, police, "investigator")
    make_user(Role.ANALYST, make_agency("coordination", "central_government"), "analyst")
    caseworker = make_user(Role.CASEWORKER, ngo, "caseworker")
    # An earlier case of the unit with twelve suspects: enough that the analyst's tables
    # publish the counts rather than suppress them as small cells.
    colleague = make_user(Role.CASEWORKER, police, "colleague")
    earlier = justice.open_criminal_case(colleague, "2026/0101-THB", "thb", date(2026, 1, 5),
                                         exploitation_form="forced_labour")
    for number in range(12):
        justice.record_suspect(colleague, earlier, ("female", "male")[number % 2], "exploiter",
                               date(2026, 1, 20), given_name=f"Suspect{number}",
                               family_name="Demo", age=30 + number)
    return case_services.register_case(caseworker, person_data(
        first_contact_on=date(2026, 1, 10)))


def record_suspect(page, given: str, family: str, born: str, gender: str, role: str) -> None:
    page.get_by_role("link", name="Record a suspect").click()
    page.get_by_label(re.compile("^Given name")).fill(given)
    page.get_by_label(re.compile("^Family name")).fill(family)
    page.get_by_label(re.compile("^Birth date")).fill(born)
    page.get_by_label(re.compile("^Sex")).select_option(gender)
    page.get_by_label(re.compile("^Role in the offence")).select_option(role)
    page.get_by_label(re.compile("^First suspected on")).fill("2026-02-20")
    page.get_by_role("button", name=re.compile("Record")).click()


def test_the_investigator_records_a_case_the_caseworker_sees_its_stage(browser, live_server,
                                                                       victims_case):
    base = live_server.url
    investigator = open_page(browser)
    sign_in(investigator, base, "investigator")
    investigator.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Criminal cases").click()
    investigator.get_by_role("link", name="Open a criminal case").click()
    investigator.get_by_label(re.compile("^National file number")).fill(REFERENCE)
    investigator.get_by_label(re.compile("^Legal qualification")).select_option("thb")
    investigator.get_by_label(re.compile("^Form of exploitation")).select_option(
        "sexual_exploitation")
    investigator.get_by_label(re.compile("^Investigation opened on")).fill("2026-02-01")
    investigator.get_by_role("button", name=re.compile("Open")).click()
    expect(investigator.get_by_role("heading", level=1)).to_contain_text("Criminal case")
    criminal_case = CriminalCase.objects.get(agency_in_charge__code="police-chisinau",
                                             legal_qualification="thb",
                                             exploitation_form="sexual_exploitation")

    record_suspect(investigator, "Vasile", "Rotari", "1979-06-02", "male", "recruiter")
    expect(investigator.get_by_role("status")).to_be_visible()
    investigator.goto(f"{base}/justice/{criminal_case.pk}/")
    record_suspect(investigator, "Natalia", "Grosu", "1985-11-17", "female", "exploiter")
    investigator.goto(f"{base}/justice/{criminal_case.pk}/")
    persons = investigator.get_by_role("region", name="Persons suspected, prosecuted or "
                                                        "convicted")
    expect(persons).to_contain_text("Vasile Rotari")
    expect(persons).to_contain_text("Natalia Grosu")

    victims = investigator.get_by_role("region", name="Victims")
    victims.get_by_label(re.compile("^Agency holding the victim's case")).select_option(
        "la-strada")
    victims.get_by_label(re.compile("^Victim's case number")).fill(victims_case.case_number)
    victims.get_by_label(re.compile("^Role in the proceedings")).select_option("injured_party")
    victims.get_by_label(re.compile("^Party to the proceedings since")).fill("2026-02-21")
    victims.get_by_role("button", name="Link the victim").click()
    expect(investigator.get_by_role("region", name="Victims")).to_contain_text(
        victims_case.case_number)

    stages = investigator.get_by_role("region", name="Stages")
    stages.get_by_label(re.compile("^New stage")).select_option("suspects_identified")
    stages.get_by_label(re.compile("^Reached on")).fill("2026-02-22")
    stages.get_by_role("button", name="Record the stage").click()
    expect(investigator.get_by_role("region", name="Stages")).to_contain_text(
        "Suspects identified")
    screenshot(investigator, "criminal-case")
    assert SuspectedPerson.objects.filter(criminal_case=criminal_case).count() == 2
    assert investigator.csp_violations == [] and investigator.script_errors == []

    axe = open_page(browser, bypass_csp=True)
    sign_in(axe, base, "investigator")
    axe.goto(f"{base}/justice/{criminal_case.pk}/")
    assert_accessible(axe, "criminal-case")
    axe.goto(f"{base}/justice/")
    assert_accessible(axe, "criminal-case-list")

    caseworker = open_page(browser)
    sign_in(caseworker, base, "caseworker")
    caseworker.goto(f"{base}/cases/{victims_case.case_number}/")
    proceedings = caseworker.locator("#stage-proceedings")
    expect(proceedings).to_contain_text("Criminal investigation")
    expect(proceedings).to_contain_text("Kept by Police Anti-Trafficking Unit")
    page_text = caseworker.content()
    for secret in (REFERENCE, "Rotari", "Grosu", "Vasile", "Natalia"):
        assert secret not in page_text
    # The NGO has no criminal cases at all.
    assert caseworker.get_by_role("link", name="Criminal cases").count() == 0
    answer = caseworker.goto(f"{base}/justice/{criminal_case.pk}/")
    assert answer.status == 404
    assert caseworker.csp_violations == [] and caseworker.script_errors == []

    analyst = open_page(browser)
    sign_in(analyst, base, "analyst")
    analyst.get_by_role("navigation", name="Main").get_by_role("link", name="Statistics").click()
    analyst.get_by_role("textbox", name=re.compile(r"^Period")).fill("2026")
    analyst.get_by_role("combobox", name=re.compile(r"^Table set")).select_option("eurostat")
    analyst.get_by_role("button", name="Show tables").click()
    suspected = analyst.get_by_role("table", name=re.compile(
        "Suspected persons by sex and age group"))
    # Fourteen persons suspected of trafficking in 2026: seven women, seven men, all adults.
    rows = suspected.locator("tbody tr")
    for sex in ("Female", "Male"):
        header = analyst.get_by_role("rowheader", name=sex, exact=True)
        expect(rows.filter(has=header).locator("td").last).to_have_text("7")
    expect(rows.last.locator("td").last).to_have_text("14")
    screenshot(analyst, "criminal-case-statistics")
    # The analyst sees counts, never a criminal case.
    assert analyst.get_by_role("link", name="Criminal cases").count() == 0
    assert analyst.goto(f"{base}/justice/{criminal_case.pk}/").status == 404
