"""The referral letter of a referral outside OpenNRM: only the shared fields of the person,
the service's contact details, the referring agency and the date, under a privacy marking;
printing it is an audited export."""

import subprocess

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from opennrm.audit.models import AuditEntry
from opennrm.cases import access
from opennrm.cases import services as case_services
from opennrm.referrals import services
from tests.helpers import as_user
from tests.referrals.outside import NOT_SHARED, make_legal_aid, record


def pdf_text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-")
    done = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True,
                          check=True, timeout=60)
    # One line for each phrase, whatever the page's width broke.
    return " ".join(done.stdout.decode("utf-8").split())


@pytest.fixture
def external(caseworker, case, consent):
    return record(caseworker, case, make_legal_aid(),
                  shared=("given_name", "birth_date", "gender", "languages", "needs"),
                  needs="A lawyer for the hearing on 20 March.")


def letter_of(user, referral) -> str:
    return pdf_text(services.print_referral_letter(user, referral.pk))


def test_it_holds_the_shared_fields_and_not_the_others(caseworker, external):
    text = letter_of(caseworker, external)
    assert "Given name Elena" in text
    assert "Gender Female" in text
    assert "Languages Romanian, Russian" in text
    assert "A lawyer for the hearing on 20 March." in text
    assert "1998" in text  # the birth date, shared
    for secret in NOT_SHARED:
        assert secret not in text, secret
    assert "Forced labour" not in text  # forms of exploitation: not shared


def test_it_names_the_service_its_contact_the_referring_agency_and_the_date(
        caseworker, external, case):
    text = letter_of(caseworker, external)
    assert "Referral letter" in text
    assert "Lawyer for victims in criminal proceedings" in text
    assert "State-Guaranteed Legal Aid, Chișinău" in text
    assert "chisinau@legal-aid.example.md" in text and "+373 22 000 202" in text
    assert "str. București 12, Chișinău" in text
    assert "Referring agency La Strada" in text
    assert f"Our reference {case.case_number}" in text
    assert "Printed by caseworker (La Strada) on" in text
    assert "The person consented to this referral" in text


def test_it_carries_a_privacy_marking(caseworker, external, settings):
    assert "Confidential: personal data of a person who may have been trafficked, shared " \
        "with their consent for this referral only" in letter_of(caseworker, external)
    settings.OPENNRM_SUMMARY_MARKING = "RESTRICTED - NRM"
    assert "RESTRICTED - NRM" in letter_of(caseworker, external)


def test_sharing_nothing_prints_nothing_of_the_person(caseworker, case, consent):
    referral = record(caseworker, case, make_legal_aid(), shared=())
    text = letter_of(caseworker, referral)
    assert "Nothing about the person is shared in this letter" in text
    assert "Elena" not in text and "Female" not in text


def test_printing_is_an_audited_export_naming_the_fields(caseworker, external, case):
    services.print_referral_letter(caseworker, external.pk, channel="web")
    entry = AuditEntry.objects.get(action="export")
    assert (entry.object_type, entry.object_ref) == ("referral", case.case_number)
    assert entry.fields == sorted(["given_name", "birth_date", "gender", "languages", "needs"])
    assert entry.reason == f"referral {external.pk}: letter"
    assert entry.channel == "web"


def test_there_is_no_letter_once_the_referral_ended(caseworker, external):
    services.record_referral_outcome(caseworker, external, "declined")
    with pytest.raises(ValidationError) as refused:
        services.print_referral_letter(caseworker, external.pk)
    assert "no longer open" in refused.value.messages[0]
    assert not AuditEntry.objects.filter(action="export").exists()


def test_there_is_no_letter_once_the_consent_is_withdrawn(caseworker, external, consent):
    case_services.withdraw_consent(caseworker, consent, timezone.localdate())
    with pytest.raises(ValidationError):
        services.print_referral_letter(caseworker, external.pk)


def test_a_referral_in_opennrm_has_no_letter(caseworker, referral):
    with pytest.raises(ValidationError) as refused:
        services.print_referral_letter(caseworker, referral.pk)
    assert "Only a referral outside OpenNRM has a letter" in refused.value.messages[0]


def test_another_agency_gets_no_letter(external, police_officer, shelter_worker):
    for user in (police_officer, shelter_worker):
        with pytest.raises(access.CaseNotFound):
            services.print_referral_letter(user, external.pk)
    assert not AuditEntry.objects.filter(action="export").exists()


# --- the download ---------------------------------------------------------------------------

def letter_url(referral) -> str:
    return f"/referrals/{referral.pk}/letter/"


def test_it_downloads_as_a_pdf_attachment(client, caseworker, external):
    response = as_user(client, caseworker).post(letter_url(external))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == \
        f'attachment; filename="referral-{external.pk}-letter.pdf"'
    assert response["Cache-Control"] == "no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Given name Elena" in pdf_text(response.content)


def test_it_only_allows_post(client, caseworker, external):
    assert as_user(client, caseworker).get(letter_url(external)).status_code == 405
    assert not AuditEntry.objects.filter(action="export").exists()


def test_an_ended_referral_says_why_there_is_no_letter(client, caseworker, external):
    services.record_referral_outcome(caseworker, external, "no_answer")
    response = as_user(client, caseworker).post(letter_url(external), follow=True)
    assert "its letter can no longer be printed" in response.content.decode()


def test_it_validates_ownership(client, external, police_officer):
    response = as_user(client, police_officer).post(letter_url(external))
    assert response.status_code == 404
    assert "Elena" not in response.content.decode()
