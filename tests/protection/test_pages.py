"""The protection pages: case page sections, timeline, step forms, support plan."""

from datetime import date

import pytest
from django.urls import reverse

from opennrm.accounts.models import Role
from opennrm.audit.models import AuditEntry
from opennrm.cases import services as case_services
from opennrm.protection import services
from opennrm.protection.models import CompensationOutcome, PermitStatus, ReflectionPeriod
from tests.factories import make_user
from tests.helpers import as_user, assert_no_inline_code

# (url name, needs a record id, fixture that makes the record)
PAGES = [
    ("case-timeline", None),
    ("reflection-period-new", None),
    ("reflection-period-extend", "period"),
    ("permit-new", None),
    ("permit-decide", "permit"),
    ("permit-renew", "granted_permit"),
    ("proceeding-new", None),
    ("proceeding-stage", "proceeding"),
    ("claim-new", None),
    ("claim-outcome", "claim"),
    ("return-new", None),
    ("return-record", "return_plan"),
    ("support-plan", "support_plan"),
    ("support-plan-edit", None),
    ("support-action-new", "support_plan"),
    ("support-review-new", "support_plan"),
]


def url(name: str, case, record=None) -> str:
    args = [case.case_number]
    if record is not None and name not in ("support-plan", "support-action-new",
                                           "support-review-new"):
        args.append(record.pk)
    return reverse(name, args=args)


@pytest.mark.parametrize(("name", "record"), PAGES)
def test_every_page_shows_to_staff_of_the_owning_agency(client, caseworker, case, request,
                                                        name, record):
    page = url(name, case, request.getfixturevalue(record) if record else None)
    response = as_user(client, caseworker).get(page)
    assert response.status_code == 200, page
    assert response["Cache-Control"] == "no-store"
    assert case.person.given_name not in response.content.decode().split("<title>")[1].split(
        "</title>")[0]
    assert_no_inline_code(response)


@pytest.mark.parametrize(("name", "record"), PAGES)
def test_it_validates_ownership(client, police_officer, case, request, name, record):
    """An officer of another agency gets 404 on every page, never the data."""
    page = url(name, case, request.getfixturevalue(record) if record else None)
    client = as_user(client, police_officer)
    assert client.get(page).status_code == 404
    assert client.post(page, {}).status_code == 404


def test_a_record_of_another_case_is_a_404(client, caseworker, case, period):
    other = case_services.register_case(caseworker, {
        "gender": "male", "first_contact_on": date(2026, 3, 2)})
    response = as_user(client, caseworker).get(
        reverse("reflection-period-extend", args=[other.case_number, period.pk]))
    assert response.status_code == 404


def test_roles_that_may_not_change_cases_cannot_record(client, ngo, case):
    analyst = make_user(Role.ANALYST, ngo, "analyst-1")
    response = as_user(client, analyst).get(reverse("reflection-period-new",
                                                    args=[case.case_number]))
    assert response.status_code == 404


def test_the_case_page_shows_the_period_with_days_left(client, caseworker, case):
    today = date.today()
    services.grant_reflection_period(caseworker, case, date(2026, 3, 3),
                                     max(today, date(2026, 4, 2)), date(2026, 3, 3),
                                     deciding_authority="National coordinator")
    page = as_user(client, caseworker).get(reverse("case-detail", args=[case.case_number]))
    content = page.content.decode()
    assert "Recovery and reflection period" in content and "Days left:" in content
    assert "National coordinator" in content
    assert reverse("case-timeline", args=[case.case_number]) in content


def test_the_case_page_reads_no_encrypted_protection_field(client, caseworker, case,
                                                           proceeding, return_plan,
                                                           support_plan):
    before = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    page = as_user(client, caseworker).get(reverse("case-detail", args=[case.case_number]))
    content = page.content.decode()
    assert "2026-0417" not in content and "Family supportive" not in content
    assert "Safe housing" not in content
    assert not AuditEntry.objects.filter(
        pk__gt=before, object_type__in=["criminal_proceeding", "return_plan",
                                        "support_plan"]).exists()


def test_granting_a_period_from_the_form(client, caseworker, case):
    response = as_user(client, caseworker).post(
        reverse("reflection-period-new", args=[case.case_number]),
        {"starts_on": "2026-03-03", "ends_on": "2026-04-02", "decided_on": "2026-03-03",
         "deciding_agency": "la-strada"})
    assert response.status_code == 302
    assert response["Location"].endswith("#stage-protection")
    assert ReflectionPeriod.objects.get().deciding_agency.code == "la-strada"


def test_a_short_period_shows_the_rule_next_to_the_field(client, caseworker, case):
    response = as_user(client, caseworker).post(
        reverse("reflection-period-new", args=[case.case_number]),
        {"starts_on": "2026-03-03", "ends_on": "2026-03-20", "decided_on": "2026-03-03",
         "deciding_authority": "Police"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "There is a problem" in content and "at least 30 days" in content
    assert 'id="id_ends_on_error"' in content
    assert not ReflectionPeriod.objects.exists()


def test_deciding_and_renewing_a_permit_from_the_forms(client, caseworker, case, permit):
    client = as_user(client, caseworker)
    client.post(reverse("permit-decide", args=[case.case_number, permit.pk]), {
        "decision": "granted", "decided_on": "2026-04-01", "expires_on": "2026-10-01",
        "deciding_authority": "Migration"})
    permit.refresh_from_db()
    assert permit.status == PermitStatus.GRANTED
    client.post(reverse("permit-renew", args=[case.case_number, permit.pk]), {
        "decided_on": "2026-09-20", "expires_on": "2027-09-30",
        "deciding_authority": "Migration"})
    permit.refresh_from_db()
    assert permit.status == PermitStatus.RENEWED and permit.renewal.expires_on


def test_a_childs_return_form_says_why_it_is_refused(client, caseworker, child_case):
    response = as_user(client, caseworker).post(
        reverse("return-new", args=[child_case.case_number]),
        {"destination_country": "UA", "voluntary": "on", "decided_on": "2026-04-01",
         "deciding_authority": "Guardianship authority"})
    assert response.status_code == 200
    assert "risk and security assessment" in response.content.decode()


def test_the_proceedings_page_shows_the_file_number_and_records_the_read(
        client, caseworker, case, proceeding):
    response = as_user(client, caseworker).get(
        reverse("proceeding-stage", args=[case.case_number, proceeding.pk]))
    assert "2026-0417" in response.content.decode()
    read = AuditEntry.objects.filter(action="read", object_type="criminal_proceeding").get()
    assert "case_reference" in read.fields and read.object_ref == case.case_number


def test_the_compensation_outcome_form(client, caseworker, case, claim):
    as_user(client, caseworker).post(
        reverse("claim-outcome", args=[case.case_number, claim.pk]),
        {"outcome": "awarded", "decided_on": "2026-06-01", "amount_awarded": "1500",
         "deciding_authority": "Court"})
    claim.refresh_from_db()
    assert claim.outcome == CompensationOutcome.AWARDED


def test_the_support_plan_from_agreement_to_review(client, caseworker, case):
    client = as_user(client, caseworker)
    response = client.post(reverse("support-plan-edit", args=[case.case_number]), {
        "objectives": "Safe housing; a job.", "agreed_on": "2026-03-05",
        "responsible_agency": "la-strada", "next_review_on": "2026-04-05"})
    assert response["Location"] == reverse("support-plan", args=[case.case_number])
    client.post(reverse("support-action-new", args=[case.case_number]), {
        "description": "Meeting with a lawyer", "responsible_agency": "la-strada",
        "due_on": "2026-03-20"})
    action = case.support_plan.actions.get()
    client.post(reverse("support-action-complete", args=[case.case_number, action.pk]),
                {f"action-{action.pk}-done_on": "2026-03-19"})
    client.post(reverse("support-review-new", args=[case.case_number]), {
        "reviewed_on": "2026-04-05", "note": "Going well.", "next_review_on": "2026-05-05"})
    page = client.get(reverse("support-plan", args=[case.case_number]))
    content = page.content.decode()
    assert "Safe housing; a job." in content and "Meeting with a lawyer" in content
    assert "Going well." in content
    assert AuditEntry.objects.filter(action="read", object_type="support_plan").exists()
    case.support_plan.refresh_from_db()
    assert case.support_plan.next_review_on == date(2026, 5, 5)


def test_completing_an_action_of_another_agency_is_a_404(client, police_officer, case,
                                                         caseworker, support_plan):
    action = services.add_support_action(caseworker, support_plan, "Counselling")
    response = as_user(client, police_officer).post(
        reverse("support-action-complete", args=[case.case_number, action.pk]),
        {f"action-{action.pk}-done_on": "2026-03-19"})
    assert response.status_code == 404
    action.refresh_from_db()
    assert not action.is_done


def test_the_timeline_page_lists_the_steps(client, caseworker, case, period, granted_permit):
    response = as_user(client, caseworker).get(reverse("case-timeline",
                                                       args=[case.case_number]))
    content = response.content.decode()
    assert "Recovery and reflection period granted" in content
    assert "Residence permit granted until 2026-10-01" in content
    assert "<caption" in content
