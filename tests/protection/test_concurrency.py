"""Two caseworkers granting a period to the same case at once end with exactly one
(PostgreSQL: the case row lock orders them)."""

import threading
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from opennrm.accounts.models import Role
from opennrm.cases import services as case_services
from opennrm.protection import services
from opennrm.protection.models import ReflectionPeriod
from tests.factories import make_user, person_data


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_grants_end_in_exactly_one_period(ngo):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; SQLite serialises writers anyway")
    first, second = (make_user(Role.CASEWORKER, ngo) for _ in range(2))
    case = case_services.register_case(first, person_data())
    barrier = threading.Barrier(2)
    outcomes = []

    def grant(actor):
        try:
            barrier.wait()
            services.grant_reflection_period(actor, case, date(2026, 3, 3), date(2026, 4, 2),
                                             date(2026, 3, 3), deciding_authority="Police")
            outcomes.append("granted")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=grant, args=(actor,)) for actor in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["granted", "refused"]
    assert ReflectionPeriod.objects.filter(case=case).count() == 1
