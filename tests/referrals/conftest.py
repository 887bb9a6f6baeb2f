from datetime import date

import pytest

from opennrm.accounts.models import Role
from opennrm.cases import services as case_services
from opennrm.referrals import services
from tests.factories import make_agency, make_agency_service, make_user


@pytest.fixture
def shelter(db):
    return make_agency("casa-luminii", "ngo")


@pytest.fixture
def shelter_worker(shelter):
    return make_user(Role.CASEWORKER, shelter, "shelter-worker")


@pytest.fixture
def supervisor(ngo):
    return make_user(Role.SUPERVISOR, ngo, "supervisor")


@pytest.fixture
def service(shelter):
    return make_agency_service(shelter)


@pytest.fixture
def consent(caseworker, case):
    return case_services.record_consent(caseworker, case, "referral", date(2026, 3, 2))


@pytest.fixture
def referral(caseworker, case, service, consent):
    return services.refer_case(caseworker, case, service, ["given_name", "gender", "needs"],
                               "A safe place to stay for two weeks.")


@pytest.fixture
def accepted(referral, shelter_worker):
    return services.accept_referral(shelter_worker, referral)
