"""Demo referrals: some demo cases referred to demo services, in every state, with assistance,
and a few to legal aid outside OpenNRM, with the outcomes their caseworkers recorded.

Synthetic data only. Everything goes through the service functions (consent, referral,
answers, assistance, consent withdrawal), so the audit trail and notifications are those a
real node would have. Needs the demo directory (`services.demo`) and the demo users.
"""

import random
from itertools import cycle

from django.utils import timezone

from opennrm.accounts.models import Role, User
from opennrm.cases import services as case_services
from opennrm.cases.models import Case, CaseStatus, VictimStatus
from opennrm.referrals import services
from opennrm.referrals.access import IDENTIFICATION_SERVICE_TYPE
from opennrm.referrals.models import Referral, ReferralState
from opennrm.services.matching import matching_services, takes_referrals_in_opennrm
from opennrm.services.models import ContactChannel, Service

CHANNEL = "cli"
REFERRED_SHARE = 0.3
IDENTIFICATION_REFERRALS = 6
# Referrals to legal aid outside OpenNRM, and the outcomes recorded, in turn ("": waiting).
EXTERNAL_SERVICE_TYPE = "legal_aid"
EXTERNAL_OUTCOMES = ("", "accepted", "assistance_delivered", "no_answer", "declined", "")
# The states the demo referrals end in, in turn: every state, most of them open.
STATES = (ReferralState.SENT, ReferralState.ACCEPTED, ReferralState.SENT,
          ReferralState.COMPLETED, ReferralState.ACCEPTED, ReferralState.DECLINED,
          ReferralState.CANCELLED, ReferralState.WITHDRAWN, ReferralState.STOPPED)
SHARE_CHOICES = (
    list(services.DEFAULT_SHARED_FIELDS),
    [*services.DEFAULT_SHARED_FIELDS, "given_name", "family_name", "phone"],
    ["gender", "age_band", "needs"],
    [*services.DEFAULT_SHARED_FIELDS, "citizenships", "exploitation_forms"],
)
NEEDS = {
    "shelter": "Safe accommodation for the recovery and reflection period.",
    "medical": "A general health check and follow-up care.",
    "psychological": "Counselling in the person's language, weekly.",
    "legal_aid": "Advice on the criminal proceedings and on compensation.",
    "interpretation": "An interpreter for interviews with the police.",
}
ASSISTANCE = {
    "shelter": "Room in the shelter, meals and hygiene kit.",
    "medical": "Health check done; follow-up appointment booked.",
    "psychological": "Three counselling sessions.",
    "legal_aid": "Legal consultation; power of attorney signed.",
    "interpretation": "Interpreter present at two interviews.",
}


def _caseworkers() -> dict[int, User]:
    return {user.agency_id: user for user in User.objects.filter(
        role=Role.CASEWORKER, username__endswith="-caseworker", is_active=True)}


def create_demo_referrals(limit: int = 60, seed: int = 2026) -> int:
    """Refer up to `limit` open demo cases; returns how many referrals were made.

    Idempotent: a node that already has referrals gets no more.
    """
    if Referral.objects.exists():
        return 0
    rng = random.Random(seed)
    caseworkers = _caseworkers()
    service_types = sorted(set(Service.objects.filter(
        is_active=True, provider__is_active=True, provider__agency_id__in=caseworkers,
        contact_channel=ContactChannel.IN_SYSTEM).exclude(
            service_type=IDENTIFICATION_SERVICE_TYPE).values_list("service_type", flat=True)))
    if not service_types:
        return 0
    cases = (Case.objects.filter(owner_agency_id__in=caseworkers, status=CaseStatus.ACTIVE,
                                 referrals__isnull=True)
             .select_related("person", "owner_agency").order_by("id")
             [: int(limit / REFERRED_SHARE)])
    states = cycle(STATES)
    made = 0
    for case in cases:
        if made >= limit or rng.random() > REFERRED_SHARE:
            continue
        sender = caseworkers[case.owner_agency_id]
        service_type = rng.choice(service_types)
        candidates = [service for service in matching_services(case, service_type)
                      if service.provider.agency_id in caseworkers
                      and service.provider.agency_id != case.owner_agency_id
                      and service.contact_channel == ContactChannel.IN_SYSTEM]
        if not candidates:
            continue
        service = rng.choice(candidates)
        if services.referral_consent(case, service.provider.agency) is None:
            case_services.record_consent(sender, case, services.REFERRAL_CONSENT,
                                         case.first_contact_on, channel=CHANNEL)
        referral = services.refer_case(
            sender, case, service, rng.choice(SHARE_CHOICES),
            NEEDS.get(service_type, "Support as agreed with the person."), channel=CHANNEL)
        _bring_to(next(states), referral, sender, caseworkers[service.provider.agency_id])
        made += 1
    return made + _refer_for_identification(caseworkers) + _refer_outside(caseworkers)


def _refer_outside(caseworkers: dict[int, User]) -> int:
    """Open demo cases referred to legal aid outside OpenNRM (recorded, the provider
    contacted by the caseworker), some with the outcome recorded."""
    cases = (Case.objects.filter(owner_agency_id__in=caseworkers, status=CaseStatus.ACTIVE)
             .select_related("person", "owner_agency").order_by("-id"))
    outcomes = iter(EXTERNAL_OUTCOMES)
    made = 0
    for case in cases:
        candidates = [service for service in matching_services(case, EXTERNAL_SERVICE_TYPE)
                      if not takes_referrals_in_opennrm(service)
                      and service.provider.agency_id != case.owner_agency_id]
        if not candidates:
            continue
        outcome = next(outcomes, None)
        if outcome is None:
            break
        sender = caseworkers[case.owner_agency_id]
        if services.referral_consent(case, None) is None:
            case_services.record_consent(sender, case, services.REFERRAL_CONSENT,
                                         case.first_contact_on, channel=CHANNEL)
        referral = services.record_external_referral(
            sender, case, candidates[0], ["given_name", "gender", "languages", "needs"],
            NEEDS[EXTERNAL_SERVICE_TYPE], channel=CHANNEL)
        if outcome:
            services.record_referral_outcome(sender, referral, outcome, channel=CHANNEL)
        made += 1
    return made


def _refer_for_identification(caseworkers: dict[int, User]) -> int:
    """Screened presumed victims of other agencies referred to the police for formal
    identification, accepted: they wait on the police decision-makers' queue."""
    service = (Service.objects.filter(service_type=IDENTIFICATION_SERVICE_TYPE,
                                      is_active=True, provider__agency_id__in=caseworkers,
                                      contact_channel=ContactChannel.IN_SYSTEM)
               .select_related("provider__agency").first())
    if service is None:
        return 0
    authority = service.provider.agency
    cases = (Case.objects.filter(owner_agency_id__in=caseworkers, status=CaseStatus.ACTIVE,
                                 victim_status=VictimStatus.PRESUMED,
                                 screenings__outcome__in=["probable", "possible"])
             .exclude(owner_agency=authority).exclude(referrals__service=service)
             .distinct().order_by("id")[:IDENTIFICATION_REFERRALS])
    for case in cases:
        sender = caseworkers[case.owner_agency_id]
        if services.referral_consent(case, authority) is None:
            case_services.record_consent(sender, case, services.REFERRAL_CONSENT,
                                         case.first_contact_on, channel=CHANNEL)
        referral = services.refer_case(
            sender, case, service, ["gender", "age_band", "languages", "exploitation_forms",
                                    "needs"],
            "Screened as a probable or possible victim: please decide formal identification.",
            channel=CHANNEL)
        services.accept_referral(caseworkers[authority.pk], referral, channel=CHANNEL)
    return len(cases)


def _bring_to(state: str, referral: Referral, sender: User, recipient: User) -> None:
    today = timezone.localdate()
    if state == ReferralState.SENT:
        return
    if state == ReferralState.DECLINED:
        services.decline_referral(recipient, referral, "No free place this month.", CHANNEL)
        return
    if state == ReferralState.CANCELLED:
        services.cancel_referral(sender, referral, "A place was found closer to home.", CHANNEL)
        return
    services.accept_referral(recipient, referral, channel=CHANNEL)
    if state == ReferralState.STOPPED:
        case_services.withdraw_consent(sender, referral.consent, today, channel=CHANNEL)
        return
    services.record_assistance(
        recipient, referral, referral.service.service_type,
        ASSISTANCE.get(referral.service.service_type, "Assistance as agreed."), today,
        channel=CHANNEL)
    if state == ReferralState.COMPLETED:
        services.complete_referral(recipient, referral, "Assistance delivered as planned.",
                                   CHANNEL)
    elif state == ReferralState.WITHDRAWN:
        services.withdraw_referral(recipient, referral, "The person moved to another region.",
                                   CHANNEL)
