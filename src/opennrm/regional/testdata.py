"""Generated persons spread over the nodes of a test network, with the truth of who is who, for
the regional tests and the benchmark: each person is registered in a random set of countries
(one case in each, first contacted in the period), and each node marks its persons "also
known in" the other countries of their set, as a cross-border linkage round would.

The marks are written directly (`seed_node`) rather than found by a linkage round: the
round's own precision is tested in `tests/linkage/crossborder/`; here the subject is the
counting across countries, which needs a known truth.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

FORMS = ["sexual_exploitation", "forced_labour", "forced_begging", "forced_criminality"]
GENDERS = ["female", "male"]


def network_persons(persons: int, seed: int, countries: Sequence[str],
                    duplicated: float = 0.3) -> list[dict]:
    """`persons` generated persons: {"person": n, "countries": [...], "gender", "form",
    "birth_year", "citizenship"}; a share `duplicated` is registered in two or more
    countries (at most all of them)."""
    rng = random.Random(f"opennrm-regional/{seed}")
    countries = sorted(countries)
    people = []
    for number in range(persons):
        if rng.random() < duplicated and len(countries) > 1:
            size = rng.choice(range(2, len(countries) + 1))
        else:
            size = 1
        where = sorted(rng.sample(countries, size))
        people.append({"person": number, "countries": where, "gender": rng.choice(GENDERS),
                       "form": rng.choice(FORMS), "birth_year": rng.randint(1960, 2008),
                       "citizenship": rng.choice(countries)})
    return people


def truth(people: list[dict], countries: Sequence[str]) -> dict:
    """What an independent count gives: each country's persons, their sum, the persons known
    in two or more of `countries`, and the persons across all of them (each once)."""
    countries = set(countries)
    national = {c: sum(1 for p in people if c in p["countries"]) for c in sorted(countries)}
    present = [p for p in people if countries & set(p["countries"])]
    extra = sum(len(countries & set(p["countries"])) - 1 for p in present)
    return {"national": national, "sum": sum(national.values()),
            "duplicates_removed": extra, "regional": len(present)}


def round_id_for(seed: int) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"opennrm-regional-test/{seed}")


def seed_node(country: str, people: list[dict], seed: int, start: date, end: date) -> int:
    """Write this node's persons (one case each, first contacted in the period, a presumed
    victim) and their "also known in" marks. Never on a node holding real data. Returns how
    many persons were written."""
    from opennrm.accounts.models import Agency
    from opennrm.cases.models import Case, Person
    from opennrm.linkage.crossborder.models import LinkageRound, PresenceAbroad

    mine = [p for p in people if country in p["countries"]]
    rng = random.Random(f"opennrm-regional/{seed}/{country}")
    days = (end - start).days
    with transaction.atomic():
        agency, _ = Agency.objects.get_or_create(
            code=f"{country}-REG", defaults={"name": f"{country} regional test agency",
                                             "agency_type": "ngo", "country": country})
        persons = Person.objects.bulk_create([
            Person(given_name=f"Test{p['person']}", family_name=country, gender=p["gender"],
                   birth_year=p["birth_year"], citizenships=[p["citizenship"]])
            for p in mine], batch_size=2000)
        Case.objects.bulk_create([
            Case(case_number=f"{country}-RT-{p['person']:07d}", person=person,
                 owner_agency=agency,
                 first_contact_on=start + timedelta(days=rng.randint(0, days)),
                 exploitation_forms=[p["form"]])
            for p, person in zip(mine, persons, strict=True)], batch_size=2000)
        now = timezone.now()
        linkage_round, _ = LinkageRound.objects.get_or_create(
            round_id=round_id_for(seed),
            defaults={"role": LinkageRound.Role.PARTICIPANT, "agreement_name": "regional test",
                      "parameters": {}, "deadline": now, "state": "linked",
                      "parties_key": "regional test", "opened_at": now, "linked_at": now})
        PresenceAbroad.objects.bulk_create([
            PresenceAbroad(person=person, country=other, round=linkage_round,
                           group_id=f"g{p['person']}")
            for p, person in zip(mine, persons, strict=True)
            for other in p["countries"] if other != country], batch_size=2000)
    return len(mine)
