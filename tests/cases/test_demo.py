from collections import Counter

import pytest

from opennrm.accounts.models import Agency, Role, User
from opennrm.audit.models import Action, AuditEntry
from opennrm.audit.services import verify_chain
from opennrm.cases import demo as demo_module
from opennrm.cases.demo import generate_demo
from opennrm.cases.models import Case, Person

CASES = 300


@pytest.fixture
def demo(db):
    return generate_demo(CASES, seed=11)


def _has_cyrillic(text: str) -> bool:
    return any("\u0400" <= char <= "\u04ff" for char in text)


def test_it_registers_the_cases_across_several_agencies(demo):
    assert demo.cases_created == CASES == Case.objects.count() == Person.objects.count()
    owners = Counter(Case.objects.values_list("owner_agency__code", flat=True))
    assert len(owners) >= 5
    assert max(owners.values()) < CASES / 2
    assert set(Agency.objects.values_list("country", flat=True)) == {"MD"}


def test_it_reports_progress_per_batch(db):
    seen = []
    generate_demo(30, progress=seen.append, seed=1)
    assert sum(seen) == 30


def test_names_are_in_latin_and_cyrillic_scripts(demo):
    family_names = [p.family_name for p in Person.objects.all()]
    cyrillic = sum(map(_has_cyrillic, family_names))
    assert 0 < cyrillic < len(family_names) / 2


def test_shares_are_plausible(demo):
    cases = list(Case.objects.select_related("person"))
    children = sum(case.is_child for case in cases)
    assert 0.08 * CASES < children < 0.35 * CASES
    forms = Counter(form for case in cases for form in case.exploitation_forms)
    assert len(forms) >= 5
    assert {f for f, _ in forms.most_common(2)} == {"sexual_exploitation", "forced_labour"}
    sexual = [c.person.gender for c in cases if c.exploitation_forms == ["sexual_exploitation"]]
    assert sexual.count("female") > 0.8 * len(sexual)
    citizenships = Counter(case.person.citizenships[0] for case in cases)
    assert citizenships.most_common(1)[0][0] == "MD"
    assert len(citizenships) >= 5
    assert len({c.exploitation_countries[0] for c in cases}) >= 6


def test_every_case_has_a_create_entry_in_an_intact_audit_trail(demo):
    created = set(AuditEntry.objects.filter(action=Action.CREATE, object_type="case")
                  .values_list("object_ref", flat=True))
    assert created == set(Case.objects.values_list("case_number", flat=True))
    assert verify_chain().ok


def test_demo_logins_work(demo):
    roles = {login.role for login in demo.logins}
    assert roles == set(Role.values)
    for login in demo.logins:
        user = User.objects.get(username=login.username)
        assert user.check_password(login.password)
        assert user.role == login.role
        assert (user.agency.name if user.agency else "") == login.agency_name
        assert len(login.password) >= 12 and "demo" in login.password
    assert User.objects.get(username="ngo-caseworker").agency.agency_type == "ngo"


def test_running_twice_does_not_duplicate_agencies_or_users(demo):
    agencies, users = Agency.objects.count(), User.objects.count()
    again = generate_demo(10, seed=12)
    assert (Agency.objects.count(), User.objects.count()) == (agencies, users)
    assert again.logins == demo.logins
    assert Case.objects.count() == CASES + 10


def test_the_same_seed_gives_the_same_people(db):
    def people() -> list[tuple]:
        return sorted((p.given_name, p.family_name, p.birth_date, p.gender)
                      for p in Person.objects.all())

    generate_demo(40, seed=5)
    first = people()
    Case.objects.all().delete()
    Person.objects.all().delete()
    generate_demo(40, seed=5)
    assert people() == first


@pytest.mark.django_db(transaction=True)
def test_a_parallel_load_keeps_one_key_ring_and_one_audit_chain(settings, tmp_path,
                                                                monkeypatch):
    # workers=2 forks on either database: the default uses it on PostgreSQL only, but the
    # key ring and the chain must hold wherever processes register cases at once.
    # No key ring yet: the worker processes must not each create their own.
    settings.OPENNRM_KEYRING = tmp_path / "keyring.json"
    monkeypatch.setattr(demo_module, "BATCH_SIZE", 40)
    generate_demo(200, seed=3, workers=2)
    assert len({p.family_name for p in Person.objects.all()}) > 20  # all decrypt
    assert Case.objects.count() == 200
    report = verify_chain()
    assert report.ok, report.problems
    # one entry per case, besides those of the demo agencies and users
    assert AuditEntry.objects.filter(object_type="case", action="create").count() == 200
