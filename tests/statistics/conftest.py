"""A small hand-made dataset for 2025 whose every table is known in advance.

Persons (all first contacted in 2025 unless said otherwise):

* Ana — female, born 1990, MD, sexual exploitation, 2025-03-01; formally identified
  on 2025-04-15; a reflection period from 2025-03-05.
* Bogdana — female, born 2010 (a child of 15), UA, forced labour and forced begging,
  2025-05-10.
* Costel — male, born 1985, RO, forced labour, 2025-06-01 at the NGO, and again
  2025-09-01 at the police as another person record, linked as the same person.
* Dmitri — male, birth date unknown, MD, no form recorded, 2025-08-01.
* Eugenia — transgender or other, born 2000, MD, forced marriage, 2025-10-01.
* Not counted: Flora (female, 1995, MD) decided not a victim; Galina (female, 1992) first
  contacted 2024-12-31, outside the period.
"""

from datetime import date

import pytest

from opennrm.accounts.models import Role
from opennrm.cases import services
from opennrm.cases.models import Case, Person
from tests.factories import make_agency, make_user, person_data


def _register(user, **overrides) -> Case:
    data = person_data(**overrides)
    return services.register_case(user, data)


@pytest.fixture
def dataset(db):
    ngo = make_agency("la-strada-stats", "ngo")
    police = make_agency("police-stats", "law_enforcement")
    ngo_worker = make_user(Role.CASEWORKER, ngo)
    police_worker = make_user(Role.CASEWORKER, police)
    common = {"labour_sector": "", "exploitation_countries": ["RU"]}
    cases = {
        "ana": _register(ngo_worker, given_name="Ana", family_name="Rusu",
                         birth_date=date(1990, 1, 5), gender="female", citizenships=["MD"],
                         exploitation_forms=["sexual_exploitation"],
                         first_contact_on=date(2025, 3, 1), **common),
        "bogdana": _register(ngo_worker, given_name="Bogdana", family_name="Kovalenko",
                             birth_date=date(2010, 2, 2), gender="female",
                             citizenships=["UA"],
                             exploitation_forms=["forced_labour", "forced_begging"],
                             first_contact_on=date(2025, 5, 10), **common),
        "costel": _register(ngo_worker, given_name="Costel", family_name="Ionescu",
                            birth_date=date(1985, 7, 7), gender="male", citizenships=["RO"],
                            exploitation_forms=["forced_labour"],
                            first_contact_on=date(2025, 6, 1), **common),
        "costel_again": _register(police_worker, given_name="Costel", family_name="Ionescu",
                                  birth_date=date(1985, 7, 7), gender="male",
                                  citizenships=["RO"], exploitation_forms=["forced_labour"],
                                  first_contact_on=date(2025, 9, 1), **common),
        "dmitri": _register(ngo_worker, given_name="Dmitri", family_name="Volkov",
                            birth_date=None, gender="male", citizenships=["MD"],
                            exploitation_forms=[], first_contact_on=date(2025, 8, 1),
                            **common),
        "eugenia": _register(ngo_worker, given_name="Eugenia", family_name="Munteanu",
                             birth_date=date(2000, 3, 3), gender="transgender_or_other",
                             citizenships=["MD"], exploitation_forms=["forced_marriage"],
                             first_contact_on=date(2025, 10, 1), **common),
        "flora": _register(ngo_worker, given_name="Flora", family_name="Ceban",
                           birth_date=date(1995, 4, 4), gender="female", citizenships=["MD"],
                           first_contact_on=date(2025, 2, 1), **common),
        "galina": _register(ngo_worker, given_name="Galina", family_name="Lungu",
                            birth_date=date(1992, 4, 4), gender="female", citizenships=["MD"],
                            first_contact_on=date(2024, 12, 31), **common),
    }
    # Costel's two person records are one person.
    first, second = cases["costel"].person_id, cases["costel_again"].person_id
    Person.objects.filter(pk__in=[first, second]).update(
        statistical_person_id=min(first, second))
    Case.objects.filter(pk=cases["flora"].pk).update(victim_status="not_a_victim")
    Case.objects.filter(pk=cases["ana"].pk).update(
        victim_status="identified", victim_status_decided_on=date(2025, 4, 15))
    _identify(cases["ana"], police, police_worker, date(2025, 4, 15))
    _reflection_period(cases["ana"], ngo_worker, date(2025, 3, 5))
    return {"cases": cases, "ngo_worker": ngo_worker, "police_worker": police_worker,
            "ngo": ngo, "police": police}


def _identify(case, agency, user, on):
    from opennrm.screening.models import IdentificationDecision

    IdentificationDecision.objects.create(case=case, decision="identified", decided_on=on,
                                          deciding_agency=agency, grounds="Test",
                                          decided_by=user)


def _reflection_period(case, user, starts_on):
    from datetime import timedelta

    from opennrm.protection.models import ReflectionPeriod

    ends_on = starts_on + timedelta(days=30)
    ReflectionPeriod.objects.create(case=case, starts_on=starts_on, ends_on=ends_on,
                                    original_ends_on=ends_on, decided_on=starts_on,
                                    recorded_by=user)


@pytest.fixture
def analyst_user(dataset):
    coordination = make_agency("coordination-stats", "central_government")
    return make_user(Role.ANALYST, coordination)


@pytest.fixture
def lenient_policy(db):
    """The coordinator lowered the node's disclosure policy to its floor (threshold 1, no
    rounding, k 2): analysts may then ask for any control."""
    from opennrm.statistics.models import DisclosurePolicy

    DisclosurePolicy.objects.update_or_create(pk=1, defaults={"threshold": 1, "rounding": 0,
                                                              "minimum_k": 2})
