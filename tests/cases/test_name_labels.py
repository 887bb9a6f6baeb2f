"""Case lists a caseworker can recognise: name labels for their own agency's cases, as the
node's policy sets it, each shown label recorded as a read."""

from opennrm.audit.models import AuditEntry
from opennrm.cases import labels, services
from opennrm.cases.models import Case
from tests.factories import person_data
from tests.helpers import as_user

LIST = "/cases/"


def test_the_label_follows_the_policy():
    assert labels.name_label("Марія", "Шевченко-Коваль", "initials") == "М. Ш. К."
    assert labels.name_label("Ana Maria", "Rusu", "given_name") == "Ana Maria R."
    assert labels.name_label("", "Rusu", "given_name") == "R."
    assert labels.name_label("Ana", "Rusu", "") == ""


def test_the_list_shows_initials_and_records_the_read(client, caseworker, case, settings):
    settings.OPENNRM_CASE_LIST_NAMES = "initials"
    content = as_user(client, caseworker).get(LIST).content.decode()
    assert "<th scope=\"col\">Name</th>" in content and "<td>E. P.</td>" in content
    assert "Popescu" not in content
    entry = AuditEntry.objects.get(action="read", object_ref=case.case_number)
    assert (entry.fields, entry.reason, entry.channel) == (
        ["family_name", "given_name"], "name label in a list", "web")


def test_the_given_name_policy(client, caseworker, case, settings):
    settings.OPENNRM_CASE_LIST_NAMES = "given_name"
    assert "<td>Elena P.</td>" in as_user(client, caseworker).get(LIST).content.decode()


def test_no_names_when_the_policy_says_so(client, caseworker, case, settings):
    settings.OPENNRM_CASE_LIST_NAMES = ""
    content = as_user(client, caseworker).get(LIST).content.decode()
    assert "E. P." not in content and case.case_number in content
    assert not AuditEntry.objects.filter(action="read").exists()


def test_roles_without_identities_see_pseudonyms(caseworker, case, monkeypatch):
    monkeypatch.setattr(labels.access, "can_see_identity", lambda user: False)
    cases = list(Case.objects.all())
    labels.attach_name_labels(caseworker, cases)
    assert cases[0].name_label == ""
    assert not AuditEntry.objects.filter(action="read").exists()


def test_it_validates_ownership(police_officer, case):
    # A case of another agency (shown through some future grant) never gets a label.
    cases = list(Case.objects.all())
    labels.attach_name_labels(police_officer, cases)
    assert cases[0].name_label == ""
    assert not AuditEntry.objects.filter(action="read").exists()


def test_one_query_for_the_names_of_a_page(client, caseworker, django_assert_max_num_queries):
    for given in ("Ana", "Ion", "Olga"):
        services.register_case(caseworker, person_data(given_name=given))
    cases = list(Case.objects.only("case_number", "owner_agency", "person"))
    with django_assert_max_num_queries(6):  # names, then the audit append
        labels.attach_name_labels(caseworker, cases)
    assert sorted(case.name_label for case in cases) == ["A. P.", "I. P.", "O. P."]
