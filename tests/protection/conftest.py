from datetime import date

import pytest

from opennrm.accounts.models import Role
from opennrm.cases import services as case_services
from opennrm.protection import services
from tests.factories import make_user, person_data

# A fixed past: the tests do not depend on the day they run.
FIRST_CONTACT = date(2026, 3, 2)


@pytest.fixture
def supervisor(ngo):
    return make_user(Role.SUPERVISOR, ngo, "supervisor")


@pytest.fixture
def child_case(caseworker):
    return case_services.register_case(caseworker, person_data(
        birth_date=date(2011, 5, 5), first_contact_on=FIRST_CONTACT))


@pytest.fixture
def foreign_case(police_officer):
    """A case of another agency: its staff may see it, ours may not."""
    return case_services.register_case(police_officer, person_data(given_name="Olena"))


@pytest.fixture
def period(caseworker, case):
    return services.grant_reflection_period(
        caseworker, case, date(2026, 3, 3), date(2026, 4, 2), date(2026, 3, 3),
        deciding_authority="National coordinator")


@pytest.fixture
def permit(caseworker, case):
    return services.record_residence_permit(caseworker, case, "personal_situation",
                                            date(2026, 3, 20))


@pytest.fixture
def granted_permit(caseworker, permit):
    return services.decide_residence_permit(
        caseworker, permit, "granted", date(2026, 4, 1), date(2026, 10, 1),
        deciding_authority="General Inspectorate for Migration")


@pytest.fixture
def proceeding(caseworker, case):
    return services.record_proceeding(
        caseworker, case, "investigation", "victim", date(2026, 3, 10),
        deciding_authority="Prosecutor", case_reference="2026-0417")


@pytest.fixture
def claim(caseworker, case):
    return services.record_compensation_claim(caseworker, case, "offender", date(2026, 3, 15),
                                              "MDL", "50000")


@pytest.fixture
def return_plan(caseworker, case):
    return services.plan_return(
        caseworker, case, "UA", True, date(2026, 4, 1), deciding_agency_code="la-strada",
        risk_assessed_on=date(2026, 3, 30), risk_assessed_by="IOM", risk_level="low",
        risk_summary="Family supportive.")


@pytest.fixture
def support_plan(caseworker, case):
    return services.create_support_plan(caseworker, case, "Safe housing; a job.",
                                        date(2026, 3, 5), next_review_on=date(2026, 4, 5))
