"""Non-punishment of victims (CETS 197 art. 26): a suspect who also has a victim's case.

A suspect carries the same keyed blind index of name and birth date as a person of a case
(`cases.Person.name_index`), so the match is found without decrypting anyone. When a suspect
matches the person of a case that is not decided "not a victim", both sides are told once
per (suspect, case), each only about its own file: the prosecutor in charge of the criminal
case hears of the criminal case, the victim's agency of its own case. Neither hears the
other's number, agency or anything of the investigation, and no notification names anyone
(they leave the node by e-mail).

The check runs when a suspect is recorded or their identity changes (the justice services
call `check_suspect`) and when a victim's case is registered or its person's identity
changes afterwards (`justice.signals`).
"""

import datetime

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_noop

from opennrm.accounts.models import User
from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_events
from opennrm.cases.access import SUPERVISING_ROLES
from opennrm.cases.models import Case, VictimStatus
from opennrm.cases.services import person_search_index
from opennrm.core.roles import Role
from opennrm.justice.access import JUSTICE_ROLES
from opennrm.justice.models import CriminalCase, NonPunishmentAlert, SuspectedPerson
from opennrm.reminders.services import Message, tell

KIND = "non_punishment"
CHANNEL = "justice"

# Told to the prosecutor in charge: names the criminal case only.
_TO_PROSECUTION = gettext_noop(
    "A person recorded in criminal case %(criminal_case)s is also registered as a presumed "
    "or identified victim of trafficking. Consider not punishing them for offences they were "
    "compelled to commit (CETS 197 art. 26).")
# Told to the victim's agency: names its own case only.
_TO_VICTIM_AGENCY = gettext_noop(
    "The person of case %(case_number)s is suspected of an offence in criminal proceedings. "
    "A victim may not be punished for offences they were compelled to commit (CETS 197 "
    "art. 26): make sure the person's lawyer and the authorities know of the case.")


def suspect_name_index(given_name: str, family_name: str,
                       birth_date: datetime.date | str | None) -> str:
    """The blind index of a suspect: the same as `cases.Person.name_index` for the same
    name and birth date (a date or an ISO date); empty without a name and a birth date."""
    if isinstance(birth_date, str):
        birth_date = parse_date(birth_date) if birth_date else None
    return person_search_index(given_name, family_name, birth_date)


def check_suspect(suspect: SuspectedPerson) -> int:
    """Alert both sides of each victim's case whose person is `suspect` and that was not
    alerted for this suspect yet; return the number of (suspect, case) alerts created."""
    if not suspect.name_index:
        return 0
    with transaction.atomic():
        cases = list(Case.objects.filter(person__name_index=suspect.name_index)
                     .exclude(victim_status=VictimStatus.NOT_A_VICTIM)
                     .exclude(pk__in=NonPunishmentAlert.objects.filter(suspect=suspect)
                              .values("case_id"))
                     .only("pk", "case_number", "owner_agency_id"))
        if not cases:
            return 0
        alerts = [NonPunishmentAlert.objects.get_or_create(suspect=suspect, case=case)
                  for case in cases]
        new = [(alert, case) for (alert, created), case in zip(alerts, cases, strict=True)
               if created]
        if not new:
            return 0
        criminal_case = CriminalCase.objects.get(pk=suspect.criminal_case_id)
        messages = [Message(KIND, f"non-punishment-suspect:{suspect.pk}", _TO_PROSECUTION,
                            tuple(prosecutors_in_charge(criminal_case)),
                            {"criminal_case": str(criminal_case.pk)},
                            link=_criminal_case_link(criminal_case))]
        events = [AuditEvent(Action.CREATE, "non_punishment_alert",
                             criminal_case.audit_ref)]
        for alert, case in new:
            messages.append(Message(
                KIND, f"non-punishment-victim:{alert.pk}", _TO_VICTIM_AGENCY,
                tuple(User.objects.filter(agency_id=case.owner_agency_id, is_active=True,
                                          role__in=SUPERVISING_ROLES)),
                {"case_number": case.case_number}, case.case_number,
                reverse("case-detail", args=[case.case_number])))
            events.append(AuditEvent(Action.CREATE, "non_punishment_alert", case.case_number))
        tell(messages)
        record_events(None, events, CHANNEL)
    return len(new)


def check_suspects_named(name_indexes) -> int:
    """Check every suspect whose blind index is among `name_indexes` (a victim's case was
    registered, or its person's identity changed); return the alerts created."""
    indexes = {index for index in name_indexes if index}
    if not indexes:
        return 0
    return sum(check_suspect(suspect)
               for suspect in SuspectedPerson.objects.filter(name_index__in=indexes)
               .only("pk", "name_index", "criminal_case_id"))


def prosecutors_in_charge(criminal_case: CriminalCase):
    """Who answers for non-punishment in `criminal_case`: the investigators, prosecutors and
    supervisors of each prosecution agency holding it (in charge or shared); while no
    prosecution agency holds it, the supervisors of the agency in charge."""
    holders = Q(agency_id=criminal_case.agency_in_charge_id) | Q(
        agency__in=criminal_case.shares.values("agency_id"))
    prosecutors = User.objects.filter(holders, agency__agency_type="prosecution",
                                      is_active=True, role__in=JUSTICE_ROLES)
    if prosecutors.exists():
        return prosecutors
    return User.objects.filter(agency_id=criminal_case.agency_in_charge_id, is_active=True,
                               role=Role.SUPERVISOR)


def _criminal_case_link(criminal_case: CriminalCase) -> str:
    return reverse("criminal-case", kwargs={"criminal_case_id": criminal_case.pk})
