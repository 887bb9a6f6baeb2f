"""The screening and identification pages."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from opennrm.accounts.models import Role
from opennrm.audit.models import AuditEntry
from opennrm.cases import services as case_services
from opennrm.screening import indicator_sets, services
from opennrm.screening.models import IdentificationDecision, Screening
from tests.factories import (
    LABOUR_DIMENSIONS,
    make_labour_indicator_set,
    make_user,
    person_data,
)
from tests.helpers import as_user, assert_no_inline_code

# Two strong indicators make a dimension present.
RECRUITED = ["coercive_recruitment_s0", "coercive_recruitment_s1"]
EXPLOITED = ["exploitative_conditions_s0", "exploitative_conditions_s1"]
COERCED = ["coercion_at_destination_s0", "coercion_at_destination_s1"]

ADULT = make_labour_indicator_set("adult")
CHILD = make_labour_indicator_set("child")
ADULT_KEY, CHILD_KEY = "test-adult-labour:1", "test-child-labour:1"
REAL_LISTS = indicator_sets.all_sets


@pytest.fixture(autouse=True)
def test_lists(monkeypatch):
    """Test lists stand in for the data files (their content has its own tests)."""
    monkeypatch.setattr(indicator_sets, "all_sets",
                        lambda: {ADULT.key: ADULT, CHILD.key: CHILD})


@pytest.fixture
def coordinator(ngo):
    return make_user(Role.NATIONAL_COORDINATOR, ngo, "coordinator")


@pytest.fixture
def child_case(caseworker):
    return case_services.register_case(caseworker, person_data(
        birth_date=date(2011, 5, 5), first_contact_on=date(2026, 3, 2)))


def new_url(case) -> str:
    return f"/cases/{case.case_number}/screenings/new/"


def preview_url(case) -> str:
    return f"/cases/{case.case_number}/screenings/preview/"


def decision_url(case) -> str:
    return f"/cases/{case.case_number}/identification/new/"


def form_data(observed=(), indicator_set=ADULT_KEY, shown=None, on="2026-03-05",
              **extra) -> dict:
    return {"indicator_set": indicator_set, "shown_set": shown or indicator_set,
            "screened_on": on, "observed": list(observed), **extra}


def is_ticked(content: str, code: str) -> bool:
    return f'value="{code}" id="id_observed_{code}" checked' in content


def screen(actor, case, observed, on=date(2026, 3, 5)) -> Screening:
    return services.record_screening(actor, case, "test-adult-labour", "1",
                                     {code: "" for code in observed}, on)


# --- the screening form --------------------------------------------------------------------

def test_the_form_shows_the_lists_the_dimensions_and_a_live_outcome(client, caseworker, case):
    response = as_user(client, caseworker).get(new_url(case))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    content = response.content.decode()
    assert "Adults, labour exploitation" in content and "Children, labour exploitation" in content
    assert "checked" in content.split(f'value="{ADULT_KEY}"')[1].split(">")[0]
    assert "is screened with a list for children" in content
    for label in LABOUR_DIMENSIONS.values():
        assert f"<legend>{label}</legend>" in content
    assert 'name="observed" value="coercive_recruitment_s0"' in content
    assert '<span class="strength strength-strong">strong</span>' in content
    assert '<span class="strength strength-weak">weak</span>' in content
    assert 'for="id_note-coercive_recruitment_s0"' in content
    assert 'role="status" aria-live="polite"' in content
    assert f'hx-post="{preview_url(case)}"' in content and 'hx-trigger="change"' in content
    assert 'hx-target="#screening-outcome"' in content
    assert "Indicators not met" in content
    assert f'value="{timezone.localdate().isoformat()}"' in content
    assert_no_inline_code(response)


def test_the_lists_are_labelled_in_the_active_language(client, caseworker, case):
    as_user(client, caseworker)
    client.cookies["django_language"] = "uk"
    content = client.get(new_url(case)).content.decode()
    assert "Adults, labour exploitation (uk)" in content
    assert "Coercive recruitment (uk)" in content
    assert "індикаторів не виявлено" in content  # the engine's explanation, in Ukrainian


def test_the_htmx_preview_shows_the_outcome_without_storing(client, caseworker, case):
    response = as_user(client, caseworker).post(
        preview_url(case), form_data(RECRUITED + EXPLOITED + COERCED), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" not in content and "Probable victim — refer" in content
    assert "Coercive recruitment: present — 2 strong" in content
    assert "screening-indicators" not in content  # same list: the indicators stay as they are
    assert response["Cache-Control"] == "no-store"
    assert_no_inline_code(response)
    assert not Screening.objects.exists()


def test_changing_the_list_with_htmx_brings_its_indicators(client, caseworker, case):
    response = as_user(client, caseworker).post(
        preview_url(case), form_data(RECRUITED, indicator_set=CHILD_KEY, shown=ADULT_KEY),
        HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert 'id="screening-indicators" hx-swap-oob="true"' in content
    assert f'name="shown_set" value="{CHILD_KEY}"' in content
    assert is_ticked(content, RECRUITED[0])  # same code in both lists: still ticked
    assert not Screening.objects.exists()


def test_check_outcome_without_javascript_keeps_the_ticks(client, caseworker, case):
    observed = RECRUITED + EXPLOITED
    response = as_user(client, caseworker).post(new_url(case), form_data(
        observed, preview="outcome", **{f"note-{RECRUITED[0]}": "Beaten on the way."}))
    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" in content and "Possible victim — gather more information" in content
    assert "Missing for a probable victim: one of Coercion at destination" in content
    assert all(is_ticked(content, code) for code in observed)
    assert not is_ticked(content, COERCED[0])
    assert "Beaten on the way." in content
    assert not Screening.objects.exists()
    assert_no_inline_code(response)


def test_changing_the_list_without_javascript_records_nothing(client, caseworker, case):
    response = as_user(client, caseworker).post(new_url(case), form_data(
        RECRUITED, indicator_set=CHILD_KEY, shown=ADULT_KEY))
    assert response.status_code == 200
    assert response.context["form"].errors["indicator_set"]
    assert f'name="shown_set" value="{CHILD_KEY}"' in response.content.decode()
    assert not Screening.objects.exists()


def test_recording_creates_a_screening_and_returns_to_the_case(client, caseworker, case):
    as_user(client, caseworker)
    response = client.post(new_url(case), form_data(
        RECRUITED + EXPLOITED + COERCED, **{f"note-{RECRUITED[0]}": "Beaten on the way.",
                                            f"note-{COERCED[1]}": "  "}))
    assert response.status_code == 302 and response.url == f"/cases/{case.case_number}/"
    screening = Screening.objects.get()
    assert (screening.indicator_set, screening.indicator_set_version) == ("test-adult-labour",
                                                                         "1")
    assert screening.outcome == "probable" and not screening.treated_as_child
    assert screening.screened_on == date(2026, 3, 5) and screening.screened_by == caseworker
    assert screening.notes == {RECRUITED[0]: "Beaten on the way."}
    assert AuditEntry.objects.filter(action="create", object_type="screening",
                                     channel="web").exists()
    content = client.get(response.url).content.decode()
    assert "Screening recorded: Probable victim — refer." in content
    assert "Adults, labour exploitation" in content
    assert f"/cases/{case.case_number}/screenings/{screening.pk}/" in content


def test_a_child_is_screened_with_the_child_rule(client, caseworker, child_case):
    as_user(client, caseworker)
    content = client.get(new_url(child_case)).content.decode()
    assert "This person may be a child: choose a list for children." in content
    assert "checked" in content.split(f'value="{CHILD_KEY}"')[1].split(">")[0]
    assert "checked" not in content.split(f'value="{ADULT_KEY}"')[1].split(">")[0]
    response = client.post(new_url(child_case), form_data(RECRUITED + EXPLOITED,
                                                          indicator_set=CHILD_KEY))
    assert response.status_code == 302
    screening = Screening.objects.get()
    assert screening.treated_as_child and screening.outcome == "probable"
    assert screening.indicator_set == "test-child-labour"


def test_the_preview_explains_the_child_rule(client, caseworker, child_case):
    response = as_user(client, caseworker).post(
        preview_url(child_case), form_data(RECRUITED + EXPLOITED, indicator_set=CHILD_KEY),
        HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert ("Probable victim — refer" in content
            and "Screened with a list for children" in content)


def test_a_list_for_another_age_group_needs_a_reason(client, caseworker, child_case):
    """A person who may be a child, screened with the adults' list: refused on the list
    with a message, unless a reason is given, which is recorded."""
    as_user(client, caseworker)
    response = client.post(new_url(child_case), form_data(RECRUITED + EXPLOITED + COERCED))
    assert response.status_code == 200 and not Screening.objects.exists()
    assert "This person may be a child" in response.content.decode()
    response = client.post(new_url(child_case), form_data(
        RECRUITED + EXPLOITED + COERCED, age_group_override="Says she is 19; papers lost."))
    assert response.status_code == 302
    screening = Screening.objects.get()
    assert screening.age_group_override == "Says she is 19; papers lost."
    assert not screening.treated_as_child and screening.outcome == "probable"


def test_validation_errors_keep_the_ticks_and_notes(client, caseworker, case):
    observed = RECRUITED + EXPLOITED
    response = as_user(client, caseworker).post(new_url(case), form_data(
        observed, on=(timezone.localdate() + timedelta(days=3)).isoformat(),
        **{f"note-{EXPLOITED[0]}": "No pay for months.",
           f"note-{EXPLOITED[1]}": "x" * 1001}))
    assert response.status_code == 200
    content = response.content.decode()
    errors = response.context["form"].errors
    assert errors["screened_on"] and errors[f"note-{EXPLOITED[1]}"]
    assert "There is a problem" in content and 'href="#id_screened_on"' in content
    assert all(is_ticked(content, code) for code in observed)
    assert "No pay for months." in content
    assert not Screening.objects.exists()
    assert_no_inline_code(response)


def test_a_missing_date_is_an_error(client, caseworker, case):
    response = as_user(client, caseworker).post(new_url(case), form_data(RECRUITED, on=""))
    assert response.context["form"].errors["screened_on"] == ["Give the date of the screening."]
    assert is_ticked(response.content.decode(), RECRUITED[0])
    assert not Screening.objects.exists()


def test_a_closed_case_is_not_screened(client, caseworker, case):
    case_services.close_case(caseworker, case, "assistance_completed")
    as_user(client, caseworker)
    content = client.get(new_url(case)).content.decode()
    assert "This case is closed" in content and 'name="observed"' not in content
    client.post(new_url(case), form_data(RECRUITED))
    assert not Screening.objects.exists()


def test_another_agency_gets_404(client, police_officer, case):
    as_user(client, police_officer)
    assert client.get(new_url(case)).status_code == 404
    assert client.post(new_url(case), form_data(RECRUITED)).status_code == 404
    assert client.post(preview_url(case), form_data(RECRUITED),
                       HTTP_HX_REQUEST="true").status_code == 404
    assert client.get(decision_url(case)).status_code == 404
    assert not Screening.objects.exists()


def test_roles_without_case_access_cannot_screen(client, analyst, case):
    as_user(client, analyst)
    assert client.get(new_url(case)).status_code == 404


def test_the_preview_is_post_only(client, caseworker, case):
    assert as_user(client, caseworker).get(preview_url(case)).status_code == 405


def test_the_real_lists_work_end_to_end(client, caseworker, case, monkeypatch):
    """The built-in ILO/EC files, in Romanian: every box ticked is a probable victim."""
    monkeypatch.setattr(indicator_sets, "all_sets", REAL_LISTS)
    adult_labour = indicator_sets.current()[0]
    key = f"{adult_labour.data['id']}:{adult_labour.data['version']}"
    as_user(client, caseworker)
    client.cookies["django_language"] = "ro"
    content = client.get(new_url(case)).content.decode()
    assert adult_labour.data["labels"]["ro"] in content
    assert f'value="{key}"' in content and "puternic" in content
    codes = list(adult_labour.indicators)
    response = client.post(preview_url(case), form_data(codes, indicator_set=key),
                           HTTP_HX_REQUEST="true")
    assert "Victimă probabilă — referiți" in response.content.decode()
    response = client.post(new_url(case), form_data(codes, indicator_set=key,
                                                    **{f"note-{codes[0]}": "Notă."}))
    assert response.status_code == 302
    screening = Screening.objects.get()
    assert screening.outcome == "probable" and screening.indicator_set_version == \
        adult_labour.data["version"]
    content = client.get(f"/cases/{case.case_number}/screenings/{screening.pk}/"
                         ).content.decode()
    assert "Victimă probabilă — referiți" in content and "Notă." in content
    assert adult_labour.label(adult_labour.data["dimensions"][0]["indicators"][0], "ro") \
        in content


# --- the summary ---------------------------------------------------------------------------

def test_the_summary_shows_the_screening_and_audits_the_read(client, caseworker, case):
    screening = services.record_screening(
        caseworker, case, "test-adult-labour", "1",
        {RECRUITED[0]: "Beaten on the way.", RECRUITED[1]: "", EXPLOITED[0]: ""},
        date(2026, 3, 5))
    before = AuditEntry.objects.filter(action="read", object_type="screening").count()
    response = as_user(client, caseworker).get(
        f"/cases/{case.case_number}/screenings/{screening.pk}/")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    content = response.content.decode()
    for text in ("Adults, labour exploitation", "version 1", "2026-03-05", "caseworker",
                 "La Strada", "Possible victim — gather more information",
                 "Coercive recruitment: present — 2 strong",
                 "Coercive recruitment: strong sign 0", "Beaten on the way.", "Adult:"):
        assert text in content, text
    assert "Elena" not in content and "Popescu" not in content
    read = AuditEntry.objects.filter(action="read", object_type="screening")
    assert read.count() == before + 1
    entry = read.latest("sequence")
    assert (entry.object_ref, list(entry.fields), entry.channel) == (
        case.case_number, ["age_group_override", "notes"], "web")
    assert_no_inline_code(response)


def test_the_summary_of_another_case_or_agency_is_404(client, caseworker, police_officer,
                                                      case):
    other = case_services.register_case(caseworker, person_data(given_name="Ana"))
    screening = screen(caseworker, case, RECRUITED)
    as_user(client, caseworker)
    assert client.get(f"/cases/{other.case_number}/screenings/{screening.pk}/"
                      ).status_code == 404
    as_user(client, police_officer)
    assert client.get(f"/cases/{case.case_number}/screenings/{screening.pk}/"
                      ).status_code == 404
    assert not AuditEntry.objects.filter(action="read", object_type="screening").exists()


def test_the_print_stylesheet_hides_the_navigation():
    from pathlib import Path

    import opennrm
    css = (Path(opennrm.__file__).parent / "core/static/opennrm/opennrm.css").read_text()
    print_rules = css.split("@media print")[1]
    assert ".site-header" in print_rules and ".button" in print_rules


# --- the identification decision and the queue ---------------------------------------------

def test_a_caseworker_gets_403_on_the_decision_form_and_the_queue(client, caseworker, case):
    as_user(client, caseworker)
    assert client.get(decision_url(case)).status_code == 403
    response = client.post(decision_url(case), {
        "decision": "identified", "decided_on": "2026-03-10", "grounds": "Enough."})
    assert response.status_code == 403
    assert client.get("/identification/queue/").status_code == 403
    assert not IdentificationDecision.objects.exists()
    content = client.get(f"/cases/{case.case_number}/").content.decode()
    assert "Screen against the indicators" in content
    assert "Record the identification decision" not in content
    assert "Identification queue" not in content


def test_a_coordinator_decides_and_the_case_page_shows_it(client, caseworker, coordinator,
                                                          case):
    screen(caseworker, case, RECRUITED + EXPLOITED + COERCED)
    as_user(client, coordinator)
    content = client.get(f"/cases/{case.case_number}/").content.decode()
    assert "Record the identification decision" in content and "Identification queue" in content
    response = client.get(decision_url(case))
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    content = response.content.decode()
    assert "Latest screening" in content and "Probable victim — refer" in content
    assert_no_inline_code(response)

    response = client.post(decision_url(case), {"decision": "identified"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) >= {"grounds"}
    assert 'value="identified"' in response.content.decode()

    response = client.post(decision_url(case), {
        "decision": "identified", "decided_on": "2026-03-10",
        "grounds": "Recruitment by deception, forced labour, documents withheld.",
        "appeal": ""})
    assert response.status_code == 302 and response.url == f"/cases/{case.case_number}/"
    decision = IdentificationDecision.objects.get()
    assert (decision.decision, decision.decided_on, decision.decided_by) == (
        "identified", date(2026, 3, 10), coordinator)
    content = client.get(response.url).content.decode()
    assert "Identification decision recorded." in content
    assert "Identified as a victim of trafficking" in content
    assert "Formally identified victim" in content


def test_a_future_decision_date_is_refused(client, coordinator, case):
    response = as_user(client, coordinator).post(decision_url(case), {
        "decision": "not_identified", "grounds": "No indicator.",
        "decided_on": (timezone.localdate() + timedelta(days=1)).isoformat()})
    assert response.status_code == 200
    assert response.context["form"].errors["decided_on"]
    assert not IdentificationDecision.objects.exists()


def test_the_queue_lists_cases_waiting_oldest_first(client, caseworker, coordinator, case,
                                                    child_case):
    screen(caseworker, case, RECRUITED, on=date(2026, 3, 5))
    services.record_screening(caseworker, child_case, "test-child-labour", "1",
                              {code: "" for code in RECRUITED + EXPLOITED}, date(2026, 2, 1))
    not_met = case_services.register_case(caseworker, person_data(given_name="Ion"))
    screen(caseworker, not_met, [])
    response = as_user(client, coordinator).get("/identification/queue/")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    content = response.content.decode()
    assert content.index(child_case.case_number) < content.index(case.case_number)
    assert not_met.case_number not in content
    days = (timezone.localdate() - date(2026, 2, 1)).days
    assert f"{days} days" in content and "2 cases waiting" in content
    assert "Forced labour" in content
    assert 'aria-current="page"' in content
    assert_no_inline_code(response)


def test_the_queue_shows_no_other_agency(client, police, caseworker, case):
    screen(caseworker, case, RECRUITED)
    other_coordinator = make_user(Role.NATIONAL_COORDINATOR, police, "other-coordinator")
    content = as_user(client, other_coordinator).get("/identification/queue/").content.decode()
    assert case.case_number not in content
    assert "No case is waiting" in content
