"""Factories for the test suite: plain functions that make real objects, through the services
wherever a service writes them (so every object is one the application could have made).

Test modules and conftest fixtures import from here, never from one another.
"""

import itertools
from datetime import date

from opennrm.accounts.models import Agency, User
from opennrm.cases import services as case_services
from opennrm.cases.models import Case, Consent
from opennrm.screening import engine
from opennrm.screening.engine import IndicatorSet
from opennrm.services.models import Provider, Service

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


# --- accounts ------------------------------------------------------------------------------

def make_agency(code: str, agency_type: str = "ngo", country: str = "MD") -> Agency:
    return Agency.objects.create(code=code, name=code.replace("-", " ").title(),
                                 agency_type=agency_type, country=country)


def make_user(role: str, agency: Agency | None, username: str | None = None) -> User:
    username = username or f"{role}-{next(_counter)}"
    return User.objects.create_user(username=username, password=PASSWORD, role=role,
                                    agency=agency)


# --- cases ---------------------------------------------------------------------------------

def person_data(**overrides) -> dict:
    """What a caseworker types to register Elena Popescu; `overrides` change any field."""
    data = {
        "given_name": "Elena",
        "family_name": "Popescu",
        "birth_date": date(1998, 4, 12),
        "gender": "female",
        "citizenships": ["MD"],
        "languages": ["ro", "ru"],
        "phone": "+37369123456",
        "address": "str. Ștefan cel Mare 1, Chișinău",
        "identity_documents": [{"document_type": "passport", "number": "AB1234567",
                                "country": "MD"}],
        "first_contact_on": date(2026, 3, 2),
        "exploitation_forms": ["forced_labour"],
        "labour_sector": "A",
        "exploitation_countries": ["RU"],
        "notes": "Met at the bus station; afraid of the employer.",
    }
    data.update(overrides)
    return data


def make_case(actor: User, **overrides) -> Case:
    """A case registered by `actor` (so owned by their agency)."""
    return case_services.register_case(actor, person_data(**overrides))


def make_consent(actor: User, case: Case, purpose: str = "referral",
                 given_on: date = date(2026, 3, 2)) -> Consent:
    return case_services.record_consent(actor, case, purpose, given_on)


# --- the service directory -----------------------------------------------------------------

def make_provider(**overrides) -> Provider:
    values = {"name": "Casa Speranța", "organisation_type": "ngo", "country": "MD"}
    values.update(overrides)
    return Provider.objects.create(**values)


def make_service(provider: Provider | None = None, **overrides) -> Service:
    values = {"name": "Shelter", "service_type": "shelter", "country": "MD",
              "region": "Chișinău", "city": "Chișinău"}
    values.update(overrides)
    return Service.objects.create(provider=provider or make_provider(), **values)


def make_agency_service(agency: Agency | None, name: str = "Casa Luminii shelter",
                        service_type: str = "shelter", response_days: int = 5) -> Service:
    """A service whose provider is `agency`: referrals to it land in that agency's inbox."""
    provider = Provider.objects.create(name=f"{name} provider", organisation_type="ngo",
                                       agency=agency, country="MD")
    return Service.objects.create(provider=provider, name=name, service_type=service_type,
                                  country="MD", response_days=response_days)


# --- referrals -----------------------------------------------------------------------------

def make_referral(actor: User, case: Case, service: Service,
                  shared_fields=("given_name", "gender", "needs"),
                  needs: str = "A safe place to stay for two weeks."):
    """A referral of `case` to `service`; the case needs a referral consent in force."""
    from opennrm.referrals import services as referral_services

    return referral_services.refer_case(actor, case, service, list(shared_fields), needs)


# --- screening: indicator lists shaped like the ILO/EC ones --------------------------------

DIMENSIONS = ("deceptive_recruitment", "coercive_recruitment",
              "recruitment_abuse_of_vulnerability", "exploitative_conditions",
              "coercion_at_destination", "abuse_of_vulnerability_at_destination")
PER_STRENGTH = 3  # indicators of each strength in each dimension of the test list


def indicator(dimension: str, strength: str, number: int) -> str:
    return f"{dimension}_{strength[0]}{number}"


def make_indicator_set(population: str = "adult") -> IndicatorSet:
    """A list shaped like the ILO/EC ones: every dimension with 3 strong, 3 medium, 3 weak
    (id "test-<population>", version "1")."""
    label = {"en": "x", "ro": "x", "uk": "x", "ru": "x"}
    groups = [list(DIMENSIONS[:3]), ["exploitative_conditions"]]
    if population == "adult":
        groups.append(list(DIMENSIONS[4:]))
    return IndicatorSet({
        "id": f"test-{population}", "version": "1", "population": population,
        "labels": label,
        "rule": {"dimension_present": [{"strong": 2}, {"strong": 1, "medium_or_weak": 1},
                                       {"medium": 3}, {"medium": 2, "weak": 1}],
                 "probable_victim": groups},
        "dimensions": [{
            "code": code, "labels": {"en": code.replace("_", " ").capitalize()},
            "indicators": [{"code": indicator(code, strength, n), "strength": strength,
                            "labels": {"en": f"{strength} sign {n}"}}
                           for strength in engine.STRENGTHS for n in range(PER_STRENGTH)],
        } for code in DIMENSIONS],
    })


def observed(dimension: str, strong=0, medium=0, weak=0) -> set[str]:
    """Codes of so many indicators of each strength in `dimension` of the test list."""
    return ({indicator(dimension, "strong", n) for n in range(strong)}
            | {indicator(dimension, "medium", n) for n in range(medium)}
            | {indicator(dimension, "weak", n) for n in range(weak)})


RECRUITED = observed("coercive_recruitment", strong=2)
EXPLOITED = observed("exploitative_conditions", strong=1, medium=1)
COERCED = observed("coercion_at_destination", medium=3)


def make_screening(actor: User, case: Case, observed_codes, on: date = date(2026, 3, 5)):
    """A screening of `case` on the test list "test-adult" (see the `test_list` fixture)."""
    from opennrm.screening import services as screening_services

    return screening_services.record_screening(actor, case, "test-adult", "1",
                                               {code: "" for code in observed_codes}, on)


# A list as the pages show it: every text in four languages, two indicators of each strength.
LABOUR_DIMENSIONS = {
    "deceptive_recruitment": "Deceptive recruitment",
    "coercive_recruitment": "Coercive recruitment",
    "recruitment_abuse_of_vulnerability": "Recruitment by abuse of vulnerability",
    "exploitative_conditions": "Exploitative conditions",
    "coercion_at_destination": "Coercion at destination",
    "abuse_of_vulnerability_at_destination": "Abuse of vulnerability at destination",
}
_LABOUR_STRENGTHS = {"s": "strong", "m": "medium", "w": "weak"}
_LABOUR_RULE = {"dimension_present": [{"strong": 2}, {"strong": 1, "medium_or_weak": 1},
                                      {"medium": 3}, {"medium": 2, "weak": 1}],
                "probable_victim": [["deceptive_recruitment", "coercive_recruitment",
                                     "recruitment_abuse_of_vulnerability"],
                                    ["exploitative_conditions"],
                                    ["coercion_at_destination",
                                     "abuse_of_vulnerability_at_destination"]]}
_LABOUR_NAMES = {"adult": "Adults, labour exploitation",
                 "child": "Children, labour exploitation"}


def _labels(english: str) -> dict:
    return {"en": english, "ro": f"{english} (ro)", "uk": f"{english} (uk)",
            "ru": f"{english} (ru)"}


def make_labour_indicator_set(population: str) -> IndicatorSet:
    """A labour list for the pages (id "test-<population>-labour", version "1"): indicator
    codes "<dimension>_s0", "_m1", "_w0", …"""
    return IndicatorSet({
        "id": f"test-{population}-labour", "version": "1", "population": population,
        "exploitation": "labour", "labels": _labels(_LABOUR_NAMES[population]),
        # The rule is the list's: the children's list leaves the means out.
        "rule": (_LABOUR_RULE if population == "adult" else
                 {**_LABOUR_RULE, "probable_victim": _LABOUR_RULE["probable_victim"][:2]}),
        "dimensions": [{
            "code": code, "labels": _labels(label),
            "indicators": [{"code": f"{code}_{letter}{n}", "strength": strength,
                            "labels": _labels(f"{label}: {strength} sign {n}")}
                           for letter, strength in _LABOUR_STRENGTHS.items()
                           for n in range(2)],
        } for code, label in LABOUR_DIMENSIONS.items()],
    })

