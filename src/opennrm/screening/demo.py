"""Demo screenings: some demo cases screened, so the queue and the case pages have content.

Synthetic data only. Runs through `services.record_screening`, like a caseworker's screening.
"""

import random

from opennrm.accounts.models import Role, User
from opennrm.cases.models import Case
from opennrm.screening import indicator_sets, services

SCREENED_SHARE = 0.4


def screen_demo_cases(limit: int = 200, seed: int = 2026) -> int:
    """Screen up to `limit` open demo cases with random observations; returns how many."""
    rng = random.Random(seed)
    lists = {(s.data["population"], s.data["exploitation"]): s for s in indicator_sets.current()}
    caseworkers = {user.agency_id: user for user in User.objects.filter(
        role=Role.CASEWORKER, username__endswith="-caseworker")}
    cases = list(Case.objects.filter(owner_agency_id__in=caseworkers, screenings__isnull=True)
                 .select_related("person").order_by("id")[: int(limit / SCREENED_SHARE)])
    screened = 0
    for case in cases:
        if screened >= limit or rng.random() > SCREENED_SHARE:
            continue
        # A list for the person's age group (a child's if they may be a child).
        population = services.age_group(case, case.first_contact_on) or "adult"
        exploitation = "sexual" if "sexual_exploitation" in case.exploitation_forms else "labour"
        indicator_set = lists.get((population, exploitation))
        if indicator_set is None:
            continue
        codes = sorted(indicator_set.indicators)
        observed = {code: "" for code in rng.sample(codes, rng.randint(2, 14))}
        services.record_screening(caseworkers[case.owner_agency_id], case,
                                  *indicator_set.key, observed,
                                  screened_on=case.first_contact_on, channel="cli")
        screened += 1
    return screened
