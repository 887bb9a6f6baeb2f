"""'Same person as': linking cases of one person registered as separate persons, and the
person the statistics count for them."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from opennrm.accounts.models import Role
from opennrm.audit.models import AuditEntry
from opennrm.cases import access, services
from opennrm.cases.models import Case, Person, SamePersonLink
from opennrm.cases.same_person import (
    counted_person_id,
    link_same_person,
    remove_same_person_link,
    same_person_links,
)
from tests.factories import make_user, person_data
from tests.helpers import as_user

NO_SUCH_CASE = "There is no case with this number that you may see."


def register(user, **overrides) -> Case:
    return services.register_case(user, person_data(**overrides))


@pytest.fixture
def other(caseworker):
    """The same woman, registered again as a separate person."""
    return register(caseworker, given_name="Olena", family_name="Popesku")


@pytest.fixture
def third(caseworker):
    return register(caseworker, given_name="Helena")


def stat_id(case: Case) -> int | None:
    return Person.objects.get(pk=case.person_id).statistical_person_id


def message_on(error: ValidationError, field: str) -> list[str]:
    return error.value.message_dict[field]


# --- the person counted for statistics ------------------------------------------------------

def test_linking_counts_both_persons_as_the_smaller_id(caseworker, case, other):
    assert stat_id(case) is None and stat_id(other) is None

    link = link_same_person(caseworker, other, case.case_number, reason="Same passport")

    smaller = min(case.person_id, other.person_id)
    assert stat_id(case) == stat_id(other) == smaller
    assert link.case == other and link.same_as_case == case and link.recorded_by == caseworker
    assert {counted_person_id(Person.objects.get(pk=c.person_id)) for c in (case, other)} == {
        smaller}


def test_a_person_linked_to_no_one_is_counted_as_itself(case):
    person = Person.objects.get(pk=case.person_id)
    assert person.statistical_person_id is None
    assert counted_person_id(person) == person.pk


def test_three_persons_chained_share_one_id(caseworker, case, other, third):
    alone = register(caseworker, given_name="Ana")
    link_same_person(caseworker, case, other.case_number)
    link_same_person(caseworker, other, third.case_number)

    smallest = min(case.person_id, other.person_id, third.person_id)
    assert stat_id(case) == stat_id(other) == stat_id(third) == smallest
    assert stat_id(alone) is None


def test_removing_a_link_splits_the_person_off(caseworker, case, other, third):
    link_same_person(caseworker, case, other.case_number)
    wrong = link_same_person(caseworker, other, third.case_number)

    remove_same_person_link(caseworker, wrong, "Different birth date after all")

    assert stat_id(third) is None
    assert stat_id(case) == stat_id(other) == min(case.person_id, other.person_id)
    wrong.refresh_from_db()
    assert wrong.removed_at is not None and wrong.removed_by == caseworker
    assert wrong.removal_reason == "Different birth date after all"
    assert SamePersonLink.objects.count() == 2  # removed, not deleted


def test_removing_the_smallest_person_recounts_the_rest(caseworker, case, other, third):
    """The persons still linked are counted under the smallest id among themselves."""
    first = link_same_person(caseworker, case, other.case_number)
    link_same_person(caseworker, other, third.case_number)
    assert case.person_id < other.person_id < third.person_id

    remove_same_person_link(caseworker, first, "Wrong case number typed")

    assert stat_id(case) is None
    assert stat_id(other) == stat_id(third) == other.person_id


def test_a_removal_keeps_persons_still_joined_another_way(caseworker, case, other, third):
    link_same_person(caseworker, case, other.case_number)
    middle = link_same_person(caseworker, other, third.case_number)
    link_same_person(caseworker, third, case.case_number)

    remove_same_person_link(caseworker, middle, "Recorded twice")

    assert stat_id(case) == stat_id(other) == stat_id(third) == case.person_id


def test_a_case_can_be_linked_again_after_its_link_was_removed(caseworker, case, other):
    link = link_same_person(caseworker, case, other.case_number)
    remove_same_person_link(caseworker, link, "Checked the wrong file")
    assert stat_id(case) is None

    link_same_person(caseworker, other, case.case_number, reason="Confirmed by the police")
    assert stat_id(case) == stat_id(other) == case.person_id


# --- what is refused ------------------------------------------------------------------------

def test_a_case_cannot_be_linked_to_itself(caseworker, case):
    with pytest.raises(ValidationError) as error:
        link_same_person(caseworker, case, case.case_number)
    assert message_on(error, "same_as_case") == ["A case cannot be linked to itself."]
    assert not SamePersonLink.objects.exists()


def test_two_cases_of_one_person_need_no_link(caseworker, case):
    second_episode = Case.objects.create(person=case.person, owner_agency=case.owner_agency,
                                         case_number="MD-26-SECOND01",
                                         first_contact_on=date(2026, 5, 1))
    with pytest.raises(ValidationError) as error:
        link_same_person(caseworker, case, second_episode.case_number)
    assert message_on(error, "same_as_case") == [
        "Both cases are already recorded for one person: there is nothing to link."]
    assert stat_id(case) is None


def test_linking_twice_is_refused_from_either_side(caseworker, case, other):
    link_same_person(caseworker, case, other.case_number)
    for first, second in ((case, other), (other, case)):
        with pytest.raises(ValidationError) as error:
            link_same_person(caseworker, first, second.case_number)
        assert message_on(error, "same_as_case") == [
            "These two cases are already linked as the same person."]
    assert SamePersonLink.objects.count() == 1


def test_the_case_number_is_needed_and_may_be_typed_in_lower_case(caseworker, case, other):
    with pytest.raises(ValidationError) as error:
        link_same_person(caseworker, case, "  ")
    assert message_on(error, "same_as_case") == ["Enter the case number of the other case."]

    link_same_person(caseworker, case, f" {other.case_number.lower()} ")
    assert stat_id(other) == case.person_id


def test_a_case_of_another_agency_looks_like_a_case_that_does_not_exist(caseworker, case,
                                                                      police_officer):
    police_case = register(police_officer)
    with pytest.raises(ValidationError) as unseen:
        link_same_person(caseworker, case, police_case.case_number)
    with pytest.raises(ValidationError) as missing:
        link_same_person(caseworker, case, "MD-26-NOTHERE0")
    assert message_on(unseen, "same_as_case") == message_on(missing, "same_as_case") == [
        NO_SUCH_CASE]
    assert not SamePersonLink.objects.exists()
    assert stat_id(police_case) is None
    assert not AuditEntry.objects.filter(action="update").exists()


def test_only_who_may_edit_the_case_links_it(case, other, police_officer, analyst, ngo):
    with pytest.raises(access.CaseNotFound):  # another agency's case: as if it did not exist
        link_same_person(police_officer, case, other.case_number)
    with pytest.raises(access.CaseNotFound):  # a role without cases sees none
        link_same_person(analyst, case, other.case_number)
    assert not SamePersonLink.objects.exists()

    coordinator = make_user(Role.NATIONAL_COORDINATOR, ngo, "coordinator")
    link_same_person(coordinator, case, other.case_number)
    assert stat_id(other) == case.person_id


def test_a_removal_needs_a_reason_and_happens_once(caseworker, case, other):
    link = link_same_person(caseworker, case, other.case_number)
    with pytest.raises(ValidationError) as error:
        remove_same_person_link(caseworker, link, " ")
    assert message_on(error, "removal_reason") == ["Give the reason for removing the link."]
    assert stat_id(case) == case.person_id

    remove_same_person_link(caseworker, link, "Not her")
    with pytest.raises(ValidationError) as error:
        remove_same_person_link(caseworker, link, "Not her")
    assert message_on(error, "removal_reason") == ["This link was already removed."]


def test_another_agency_cannot_remove_a_link(caseworker, case, other, police_officer):
    link = link_same_person(caseworker, case, other.case_number)
    with pytest.raises(access.CaseNotFound):
        remove_same_person_link(police_officer, link, "Not her")
    link.refresh_from_db()
    assert link.is_active and stat_id(other) == case.person_id


# --- what is recorded and shown --------------------------------------------------------------

def test_links_and_removals_are_audited_on_both_cases(caseworker, case, other):
    link = link_same_person(caseworker, case, other.case_number, reason="Same scar on the hand",
                            channel="web")
    remove_same_person_link(caseworker, link, "Twin sister", channel="web")

    entries = list(AuditEntry.objects.filter(action="update", object_type="case"))
    assert [(e.object_ref, e.reason) for e in entries] == [
        (case.case_number, f"same person as {other.case_number}"),
        (other.case_number, f"same person as {case.case_number}"),
        (case.case_number, f"no longer the same person as {other.case_number}"),
        (other.case_number, f"no longer the same person as {case.case_number}"),
    ]
    assert entries[0].fields == ["same_person_as", "same_person_as.reason"]
    assert entries[2].fields == ["same_person_as", "same_person_as.removal_reason"]
    assert {(e.actor_id, e.channel) for e in entries} == {(caseworker.pk, "web")}
    # The reasons may describe the person: they stay out of the (unencrypted) trail.
    assert not AuditEntry.objects.filter(reason__icontains="scar").exists()
    assert not AuditEntry.objects.filter(reason__icontains="twin").exists()


def test_the_reasons_are_encrypted_at_rest(caseworker, case, other):
    link = link_same_person(caseworker, case, other.case_number, reason="Same scar on the hand")
    remove_same_person_link(caseworker, link, "Twin sister")
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason, removal_reason FROM cases_samepersonlink")
        stored = cursor.fetchone()
    assert all(value.startswith("enc1:") for value in stored)
    assert "scar" not in stored[0] and "Twin" not in stored[1]


def test_links_to_cases_the_user_cannot_see_are_left_out(caseworker, case, other,
                                                         police_officer):
    """A link recorded by someone who sees both (e.g. automatic linkage, later) shows only
    to those who can see the other case too: no number, no count."""
    police_case = register(police_officer)
    SamePersonLink.objects.create(case=police_case, same_as_case=case, recorded_by=police_officer)
    link_same_person(caseworker, case, other.case_number)
    case = access.get_visible_case(caseworker, case.case_number)  # as the page reads it

    shown = same_person_links(caseworker, case)
    assert [link.other_case for link in shown] == [other]
    assert same_person_links(police_officer, police_case) == []
    with pytest.raises(access.CaseNotFound):
        same_person_links(police_officer, case)


# --- the case page ----------------------------------------------------------------------------

def page(case) -> str:
    return f"/cases/{case.case_number}/"


def test_the_page_shows_the_linked_cases_and_the_form(client, caseworker, case, other):
    link_same_person(caseworker, case, other.case_number)
    content = as_user(client, caseworker).get(page(case)).content.decode()
    assert "Same person as" in content
    assert f'href="/cases/{other.case_number}/"' in content
    assert f"/cases/{case.case_number}/same-person/" in content  # the form to add a link
    assert f"/cases/{case.case_number}/same-person/{SamePersonLink.objects.get().pk}/remove/" \
        in content
    # The other side shows the link back.
    content = client.get(page(other)).content.decode()
    assert f'href="/cases/{case.case_number}/"' in content


def test_the_page_links_a_case(client, caseworker, case, other):
    response = as_user(client, caseworker).post(f"{page(case)}same-person/", {
        "same-person-same_as_case": other.case_number,
        "same-person-reason": "Same passport number"})
    assert response.status_code == 302
    assert response["Location"] == f"{page(case)}#same-person"
    assert stat_id(case) == stat_id(other) == case.person_id
    assert SamePersonLink.objects.get().reason == "Same passport number"


def test_a_wrong_number_is_shown_beside_the_field_and_nothing_typed_is_lost(
        client, caseworker, case, police_officer):
    police_case = register(police_officer)
    response = as_user(client, caseworker).post(f"{page(case)}same-person/", {
        "same-person-same_as_case": police_case.case_number,
        "same-person-reason": "She gave the police the same name"})
    assert response.status_code == 200
    content = response.content.decode()
    assert content.count(NO_SUCH_CASE) == 2  # beside the field, and in the summary
    assert 'href="#id_same-person-same_as_case"' in content
    assert f'value="{police_case.case_number}"' in content
    assert "She gave the police the same name</textarea>" in content
    assert not SamePersonLink.objects.exists()


def test_the_page_removes_a_link_with_a_reason(client, caseworker, case, other):
    link = link_same_person(caseworker, case, other.case_number)
    url = f"{page(case)}same-person/{link.pk}/remove/"
    field = f"same-person-{link.pk}-removal_reason"
    response = as_user(client, caseworker).post(url, {field: ""})
    assert response.status_code == 200
    assert response.content.decode().count("Give the reason for removing the link.") == 2
    link.refresh_from_db()
    assert link.is_active

    response = client.post(url, {field: "Different person"})
    assert response.status_code == 302
    link.refresh_from_db()
    assert not link.is_active and stat_id(case) is None
    assert f'href="/cases/{other.case_number}/"' not in client.get(page(case)).content.decode()


def test_the_page_validates_ownership(client, caseworker, case, other, police_officer):
    link = link_same_person(caseworker, case, other.case_number)
    as_user(client, police_officer)
    assert client.post(f"{page(case)}same-person/",
                       {"same-person-same_as_case": other.case_number}).status_code == 404
    assert client.post(f"{page(case)}same-person/{link.pk}/remove/",
                       {f"same-person-{link.pk}-removal_reason": "x"}).status_code == 404
    link.refresh_from_db()
    assert link.is_active


# --- across agencies: the recipient of an open referral ------------------------------------

def test_the_recipient_of_a_referral_links_its_own_record_of_the_person(caseworker, case):
    from opennrm.referrals import services as referrals
    from tests.factories import make_agency, make_agency_service

    shelter = make_agency("casa-luminii-link", "ngo")
    shelter_worker = make_user(Role.CASEWORKER, shelter, "shelter-linker")
    consent = services.record_consent(caseworker, case, "referral", date(2026, 3, 2))
    referral = referrals.refer_case(caseworker, case, make_agency_service(shelter), ["gender"],
                                    "A bed.")
    own = register(shelter_worker, given_name="Elena")
    link_same_person(shelter_worker, own, case.case_number)
    assert stat_id(own) == stat_id(case) == min(own.person_id, case.person_id)
    # Once the consent is withdrawn the referral stops: the case is out of reach again.
    link_same_person_again = register(shelter_worker, given_name="Elena")
    services.withdraw_consent(caseworker, consent, date(2026, 3, 3))
    referral.refresh_from_db()
    assert not referral.is_open
    with pytest.raises(ValidationError) as error:
        link_same_person(shelter_worker, link_same_person_again, case.case_number)
    assert message_on(error, "same_as_case") == [NO_SUCH_CASE]


def test_a_case_number_with_a_nul_character_is_a_case_that_does_not_exist(caseworker, case):
    with pytest.raises(ValidationError) as error:
        link_same_person(caseworker, case, "MD-26-\x00ABC")
    assert message_on(error, "same_as_case") == [NO_SUCH_CASE]
