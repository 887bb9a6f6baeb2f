import pytest

from opennrm.cases import services
from opennrm.cases.models import Person
from opennrm.core.keyring import KeyRingError, get_keyring
from opennrm.core.rotation import key_usage, reencrypt_all, retire_key
from tests.factories import person_data


@pytest.fixture
def three_cases(caseworker):
    return [services.register_case(caseworker, person_data(given_name=name))
            for name in ("Ana", "Олена", "Ayşe")]


def test_every_case_decrypts_after_rotation_and_old_key_can_be_retired(three_cases):
    ring = get_keyring()
    old_key = ring.active_key_id
    new_key = ring.add_key()

    with pytest.raises(KeyRingError, match="still encrypted"):
        retire_key(old_key)

    rewritten = reencrypt_all()
    assert rewritten >= 3 * 7
    assert set(key_usage()) == {new_key}
    retire_key(old_key)
    assert old_key not in get_keyring().data_keys

    names = sorted(p.given_name for p in Person.objects.all())
    assert names == sorted(["Ana", "Олена", "Ayşe"])
    assert Person.objects.get(given_name__isnull=False, pk=three_cases[0].person_id
                              ).identity_documents[0]["number"] == "AB1234567"


def test_rotation_keeps_exact_search_working(caseworker, three_cases):
    from datetime import date

    get_keyring().add_key()
    reencrypt_all()
    found = services.find_cases_by_name(caseworker, "Олена", "Popescu", date(1998, 4, 12))
    assert found == [three_cases[1]]


def test_the_active_key_cannot_be_retired(three_cases):
    with pytest.raises(KeyRingError):
        get_keyring().retire_key(get_keyring().active_key_id)
