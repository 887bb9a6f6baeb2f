"""Possible duplicates for the demo: the linkage job run once over the demo register.

The demo register already holds persons registered again at another agency (`cases.demo`):
the coordinator reviews those. So that a supervisor has pairs of their own to review too,
the NGO's caseworker first registers two of the NGO's persons once more, as a hurried
second registration would: the name without diacritics, no papers, no phone. Synthetic
data only; nothing is linked automatically (the policy sets no threshold).
"""

from datetime import date

from anyascii import anyascii

from opennrm.accounts.models import User
from opennrm.cases.models import Case
from opennrm.cases.services import register_case
from opennrm.linkage import node
from opennrm.linkage.models import UNDECIDED, CandidatePair, LinkageRun, Trigger

REGISTERED_AGAIN = 2
CHANNEL = "cli"


def _register_again(caseworker: User, count: int) -> int:
    cases = (Case.objects.filter(owner_agency_id=caseworker.agency_id)
             .exclude(person__birth_date="").select_related("person").order_by("pk")[:count])
    for case in cases:
        person = case.person
        register_case(caseworker, {
            "given_name": anyascii(person.given_name), "family_name": anyascii(person.family_name),
            "birth_date": date.fromisoformat(person.birth_date), "gender": person.gender,
            "citizenships": person.citizenships, "first_contact_on": case.first_contact_on,
            "exploitation_forms": case.exploitation_forms,
            "labour_sector": case.labour_sector}, channel=CHANNEL)
    return len(cases)


def create_demo_linkage() -> int:
    """Run the job once on the demo register; return how many pairs wait for review."""
    coordinator = User.objects.filter(username="coordinator").first()
    caseworker = User.objects.filter(username="ngo-caseworker").first()
    if coordinator is None or caseworker is None or LinkageRun.objects.exists():
        return 0
    _register_again(caseworker, REGISTERED_AGAIN)
    node.run_linkage(coordinator, Trigger.ON_DEMAND, channel=CHANNEL)
    return CandidatePair.objects.filter(state__in=UNDECIDED).count()
