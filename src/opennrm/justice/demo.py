"""Demo criminal cases, consistent with the demo victims' cases.

Synthetic data only, written through `justice.services` and `justice.victims` as the police
and the prosecutor would record it. The police anti-trafficking unit opens a criminal case
for a few identified victims exploited in the same form, identifies one to three suspects,
and hands the case to the prosecution office (shared) at the indictment; some cases reach a
judgement with convictions and sentences, some are closed without prosecution, some carry
an international cooperation request. The victims' caseworkers then see the stage of the
proceedings on the protection timeline.
"""

import random
from datetime import date, timedelta

from opennrm.accounts.models import User
from opennrm.cases.demo import name_pool
from opennrm.cases.models import Case, VictimStatus
from opennrm.justice import services, victims
from opennrm.justice.models import CriminalCase

PROSECUTION = "prosecution"
CRIMINAL_CASES = 12
ROLES = ("recruiter", "transporter", "exploiter", "controller", "harbourer", "financier")
# The path a criminal case takes, one stage after another; where it stops is drawn.
PATH = ("suspects_identified", "indictment", "first_instance_judgement", "final_judgement")


def _qualification(rng: random.Random, form: str, group: list[Case]) -> str:
    """Trafficking, of children when a victim is a child; a few forced-labour cases are
    qualified as forced labour alone (a related offence, not counted as trafficking)."""
    if form == "forced_labour" and rng.random() < 0.3:
        return "forced_labour"
    return "thb_child" if any(case.is_child for case in group) else "thb"


def _after(rng: random.Random, day: date, low: int, high: int, today: date) -> date | None:
    later = day + timedelta(days=rng.randint(low, high))
    return later if later <= today else None


def _victims_by_form(today: date) -> dict[str, list[Case]]:
    """Victims' cases (presumed or identified) with a main form of exploitation, first met
    at least two months ago: most investigations start before the formal identification."""
    cases = (Case.objects.exclude(victim_status=VictimStatus.NOT_A_VICTIM)
             .filter(first_contact_on__lte=today - timedelta(days=60))
             .select_related("owner_agency").order_by("case_number"))
    by_form: dict[str, list[Case]] = {}
    for case in cases:
        if case.exploitation_forms:
            by_form.setdefault(case.exploitation_forms[0], []).append(case)
    return by_form


def _suspects(rng, police_user, criminal_case: CriminalCase, on: date) -> list:
    pool = name_pool("ro_RO", 7)
    persons = []
    for _ in range(rng.randint(1, 3)):
        gender = "male" if rng.random() < 0.7 else "female"
        persons.append(services.record_suspect(
            police_user, criminal_case, gender, rng.choice(ROLES), on,
            given_name=rng.choice(pool.given[gender]),
            family_name=rng.choice(pool.family[gender]),
            birth_date=date(rng.randint(1965, 2000), rng.randint(1, 12), rng.randint(1, 28)),
            citizenships=[rng.choice(("MD", "MD", "MD", "UA", "RO", "TR", "RU"))],
            channel="cli"))
    return persons


def _judgement(rng, prosecutor, persons, on: date) -> None:
    for person in persons:
        outcome = rng.choices(("convicted", "acquitted", "charges_dropped"), (7, 2, 1))[0]
        if outcome == "convicted":
            kind = rng.choice(("imprisonment", "imprisonment", "suspended_imprisonment"))
            services.record_outcome(prosecutor, person, outcome, on, kind,
                                    rng.randint(24, 120),
                                    rng.choice((None, 5000, 12500, 40000)), channel="cli")
        else:
            services.record_outcome(prosecutor, person, outcome, on, channel="cli")


def create_demo_criminal_cases(today: date | None = None, seed: int = 18) -> int:
    """Open up to `CRIMINAL_CASES` criminal cases on the demo victims; return how many."""
    today = today or date.today()
    rng = random.Random(seed)
    police_user = User.objects.filter(username="police-caseworker").first()
    prosecutor = User.objects.filter(username="prosecution-caseworker").first()
    if police_user is None or prosecutor is None or CriminalCase.objects.exists():
        return 0
    by_form = _victims_by_form(today)
    opened = 0
    for number in range(CRIMINAL_CASES):
        forms = [form for form, cases in by_form.items() if cases]
        if not forms:
            break
        form = rng.choice(forms)
        group = [by_form[form].pop() for _ in range(min(rng.randint(1, 3), len(by_form[form])))]
        start = max(case.first_contact_on for case in group) + timedelta(days=rng.randint(5, 40))
        if start > today:
            continue
        criminal_case = services.open_criminal_case(
            police_user, f"{2020 + number % 6}-{1000 + number}/THB",
            _qualification(rng, form, group),
            start, exploitation_form=form,
            offence_from=min(case.first_contact_on for case in group) - timedelta(days=200),
            offence_to=min(case.first_contact_on for case in group), channel="cli")
        opened += 1
        for case in group:
            victims.link_victim(police_user, criminal_case, case.owner_agency.code,
                                case.case_number, rng.choice(("victim", "injured_party")),
                                start, channel="cli")
        if rng.random() < 0.3:
            services.record_cooperation_request(
                police_user, criminal_case, rng.choice(("mla", "eio", "jit", "europol")),
                "sent", rng.choice(("RO", "IT", "DE", "TR", "RU")), start, channel="cli")
        _follow_path(rng, police_user, prosecutor, criminal_case, start, today)
    _victim_recorded_as_suspect(police_user, by_form, today)
    return opened


def _victim_recorded_as_suspect(police_user, by_form: dict[str, list[Case]],
                                today: date) -> None:
    """A victim who was made to recruit others, recorded as a suspect in a case under
    investigation: the demo shows the non-punishment alert (CETS 197 art. 26)."""
    under_investigation = CriminalCase.objects.filter(
        stage__in=("investigation_opened", "suspects_identified")).order_by("pk").first()
    victim = next((case for cases in by_form.values() for case in cases
                   if case.person.birth_date), None)
    if under_investigation is None or victim is None:
        return
    person = victim.person
    services.record_suspect(
        police_user, under_investigation, person.gender, "recruiter",
        max(under_investigation.opened_on, victim.first_contact_on, today - timedelta(days=1)),
        given_name=person.given_name, family_name=person.family_name,
        birth_date=person.birth_date, citizenships=person.citizenships, channel="cli")


def _follow_path(rng, police_user, prosecutor, criminal_case, start: date, today: date) -> None:
    day, persons, actor = start, [], police_user
    for stage in PATH[:rng.randint(1, len(PATH))]:
        day = _after(rng, day, 20, 150, today)
        if day is None:
            return
        if stage == "indictment" and rng.random() < 0.15:
            services.record_stage(actor, criminal_case, "closed_without_prosecution", day,
                                  closure_reason="insufficient_evidence", channel="cli")
            return
        if stage == "indictment":
            services.share_criminal_case(police_user, criminal_case, PROSECUTION, channel="cli")
            actor = prosecutor
            for person in persons:
                services.record_indictment(actor, person, day, channel="cli")
        if stage == "final_judgement":
            _judgement(rng, actor, persons, day)
        services.record_stage(actor, criminal_case, stage, day, channel="cli")
        if stage == "suspects_identified":
            persons = _suspects(rng, actor, criminal_case, day)
