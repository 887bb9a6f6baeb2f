""""Who viewed this case": the audit trail's reads of the case, for its agency's supervisors."""

import pytest
from django.urls import reverse

from opennrm.casefile import services
from opennrm.cases import access
from opennrm.cases import services as case_services
from tests.helpers import as_user


def test_the_supervisor_sees_who_read_the_case_and_how(caseworker, supervisor, case):
    case_services.read_case(caseworker, case.case_number, channel="web")
    case_services.reveal_identity(caseworker, case.case_number, channel="web")
    (viewer,) = services.case_viewers(supervisor, case)
    assert viewer["actor_username"] == "caseworker" and viewer["agency_name"] == "La Strada"
    assert viewer["views"] == 2 and viewer["first_at"] <= viewer["last_at"]
    actions = [entry.action for entry in services.case_views(supervisor, case)]
    assert actions == ["reveal", "read"]  # newest first; the registration is no view


def test_downloads_prints_and_journal_reads_count_as_views(caseworker, supervisor, case,
                                                          entry, photo):
    services.read_journal(caseworker, case)
    services.open_attachment(caseworker, case, photo.pk)
    services.print_case_summary(caseworker, case.case_number)
    parts = {entry.object_type for entry in services.case_views(supervisor, case)}
    assert parts == {"journal_entry", "attachment", "case_summary"}


def test_only_the_owning_agencys_supervisor_sees_it(caseworker, supervisor, police_supervisor,
                                                    case):
    assert services.case_viewers(supervisor, case) == []
    with pytest.raises(access.CaseAccessDenied):
        services.case_viewers(caseworker, case)
    with pytest.raises(access.CaseNotFound):
        services.case_viewers(police_supervisor, case)


def test_the_page_lists_them(client, caseworker, supervisor, case):
    case_services.read_case(caseworker, case.case_number, channel="api")
    page = as_user(client, supervisor).get(reverse("case-viewers", args=[case.case_number]))
    content = page.content.decode()
    assert page.status_code == 200
    assert "Who viewed this case" in content and "caseworker" in content
    assert "The case" in content and "api" in content


def test_a_caseworker_is_refused_the_page(client, caseworker, case):
    page = as_user(client, caseworker).get(reverse("case-viewers", args=[case.case_number]))
    assert page.status_code == 403


def test_it_validates_ownership(client, police_supervisor, case):
    page = as_user(client, police_supervisor).get(
        reverse("case-viewers", args=[case.case_number]))
    assert page.status_code == 404
