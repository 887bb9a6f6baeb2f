"""One demo person followed end to end, through every capability, for a newcomer to read.

An NGO meets a woman exploited in a factory abroad: screening against the indicators
(probable victim), consent, referral to the police for formal identification (accepted,
decided), the recovery and reflection period, referral to a shelter (accepted, assistance
recorded, completed), a residence permit, a support plan, and the case closed. Every step
goes through the same service functions a caseworker's clicks do, so the case page, the
referral pages, the timeline and the audit trail show it all.

Synthetic data only. Needs the demo accounts, directory and indicator lists.
"""

from datetime import timedelta

from django.utils import timezone

from opennrm.accounts.models import User
from opennrm.cases import services as case_services
from opennrm.cases.models import Case, CaseStatus
from opennrm.protection import services as protection
from opennrm.referrals import services as referrals
from opennrm.referrals.access import IDENTIFICATION_SERVICE_TYPE
from opennrm.screening import indicator_sets
from opennrm.screening import services as screening
from opennrm.services.models import Service

CHANNEL = "cli"
AGENCY = "ngo"
STRENGTH_ORDER = {"strong": 0, "medium": 1, "weak": 2}


def _probable_observations(indicator_set) -> dict[str, str]:
    """The three strongest indicators of every dimension: each dimension is present."""
    by_dimension: dict[str, list[tuple[str, str]]] = {}
    for code, (dimension, strength) in indicator_set.indicators.items():
        by_dimension.setdefault(dimension, []).append((strength, code))
    observed = {}
    for found in by_dimension.values():
        for _strength, code in sorted(found, key=lambda item: STRENGTH_ORDER[item[0]])[:3]:
            observed[code] = ""
    return observed


def _journey_case() -> Case | None:
    return (Case.objects.filter(owner_agency__code=AGENCY, status=CaseStatus.CLOSED,
                                referrals__service__service_type=IDENTIFICATION_SERVICE_TYPE,
                                reflection_periods__isnull=False,
                                residence_permits__isnull=False)
            .order_by("id").first())


def follow_one_person() -> Case | None:
    """Create the end-to-end demo case (once); return it, or None without the demo setup."""
    existing = _journey_case()
    if existing is not None:
        return existing
    users = {user.username: user for user in User.objects.filter(username__in=(
        "ngo-caseworker", "police-caseworker", "police-supervisor", "shelter-caseworker"))}
    identification = Service.objects.filter(service_type=IDENTIFICATION_SERVICE_TYPE,
                                            provider__agency__code="police").first()
    shelter = Service.objects.filter(service_type="shelter", provider__agency__code="shelter",
                                     genders=["female"]).first()
    lists = {(s.data["population"], s.data["exploitation"]): s
             for s in indicator_sets.current()}
    if len(users) < 4 or identification is None or shelter is None \
            or ("adult", "labour") not in lists:
        return None
    caseworker = users["ngo-caseworker"]
    today = timezone.localdate()
    met_on = today - timedelta(days=60)
    case = case_services.register_case(caseworker, {
        "given_name": "Ana", "family_name": "Demo-Journey", "gender": "female",
        "birth_date": met_on.replace(year=met_on.year - 29), "citizenships": ["MD"],
        "languages": ["ro", "ru"], "first_contact_on": met_on,
        "exploitation_forms": ["forced_labour"], "labour_sector": "C",
        "exploitation_countries": ["RU"], "means_of_control": ["withholds_documents"],
        "notes": "Synthetic person of the end-to-end demo.",
    }, channel=CHANNEL)
    screening.record_screening(caseworker, case, *lists["adult", "labour"].key,
                               _probable_observations(lists["adult", "labour"]),
                               screened_on=met_on, channel=CHANNEL)
    case_services.record_consent(caseworker, case, referrals.REFERRAL_CONSENT, met_on,
                                 channel=CHANNEL)
    period = protection.grant_reflection_period(
        caseworker, case, met_on + timedelta(days=1), met_on + timedelta(days=31),
        met_on + timedelta(days=1), deciding_agency_code="police", channel=CHANNEL)
    plan = protection.create_support_plan(
        caseworker, case, "Safe accommodation, counselling, a decision on the proceedings, "
        "then a job with a written contract.", met_on + timedelta(days=2),
        responsible_agency_code=AGENCY, channel=CHANNEL)

    to_police = referrals.refer_case(
        caseworker, case, identification, ["gender", "age_band", "languages",
                                           "exploitation_forms", "needs"],
        "Screened as a probable victim of forced labour: please decide formal identification.",
        channel=CHANNEL)
    referrals.accept_referral(users["police-caseworker"], to_police, channel=CHANNEL)
    screening.decide_identification(
        users["police-supervisor"], case, "identified", today,
        "Account consistent and corroborated: recruitment by deception, documents withheld, "
        "unpaid excessive hours under threats.", channel=CHANNEL)
    referrals.record_assistance(users["police-caseworker"], to_police,
                                IDENTIFICATION_SERVICE_TYPE, "Identification interview held; "
                                "decision recorded.", today, channel=CHANNEL)
    referrals.complete_referral(users["police-caseworker"], to_police, channel=CHANNEL)

    to_shelter = referrals.refer_case(
        caseworker, case, shelter, ["given_name", "family_name", "gender", "age_band",
                                    "languages", "needs"],
        "Safe accommodation during the reflection period.", channel=CHANNEL)
    referrals.accept_referral(users["shelter-caseworker"], to_shelter, channel=CHANNEL)
    referrals.record_assistance(users["shelter-caseworker"], to_shelter, "shelter",
                                "Room in the shelter, meals, a medical check-up arranged.",
                                today, channel=CHANNEL)
    referrals.complete_referral(users["shelter-caseworker"], to_shelter, channel=CHANNEL)

    permit = protection.record_residence_permit(caseworker, case, "personal_situation",
                                                period.starts_on + timedelta(days=20),
                                                channel=CHANNEL)
    protection.decide_residence_permit(caseworker, permit, "granted",
                                       period.ends_on + timedelta(days=5),
                                       today + timedelta(days=180),
                                       deciding_authority="General Inspectorate for Migration",
                                       channel=CHANNEL)
    protection.update_support_plan(caseworker, plan, status="closed", channel=CHANNEL)
    return case_services.close_case(caseworker, case, "assistance_completed", channel=CHANNEL)
