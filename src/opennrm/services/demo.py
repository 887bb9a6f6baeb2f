"""A demo service directory: invented providers across Moldova, some of them demo agencies.

Providers that are NRM agencies of the demo (the shelter, the counter-trafficking NGO, the
social assistance directorate, the health centre, the international organisation's office)
are linked to those agencies, so demo users can receive referrals. The others (a clinic,
state-guaranteed legal aid offices, interpreters, an employment office, a men's shelter, …)
are contacted by e-mail or telephone. Names, addresses, e-mails (example.md) and telephone
numbers are invented. Everything is written through `services.create_provider` and
`services.create_service`, as a coordinator would.
"""

import random
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from opennrm.accounts.models import Agency, Role, User
from opennrm.cases.demo import COORDINATION_AGENCY, ensure_demo_accounts
from opennrm.services import services
from opennrm.services.models import ContactChannel, Provider

CHANNEL = "cli"
ADULTS = {"min_age": 18}
CHILDREN = {"max_age": 17}


@dataclass(frozen=True)
class DemoService:
    name: str
    service_type: str
    city: str
    region: str
    languages: tuple[str, ...]
    capacity: int | None = None
    eligibility: dict = field(default_factory=dict)  # genders, min_age, max_age
    description: str = ""
    response_days: int = 5


@dataclass(frozen=True)
class DemoProvider:
    name: str
    organisation_type: str
    agency: str  # code of a demo agency, "" for a provider outside OpenNRM
    email: str
    phone: str
    services: tuple[DemoService, ...]
    description: str = ""


DEMO_PROVIDERS = (
    DemoProvider("Police Anti-Trafficking Unit", "law_enforcement", "police",
                 "identificare@politia.example.md", "+373 22 000 100", (
        DemoService("Formal identification of presumed victims", "formal_identification",
                    "Chișinău", "Chișinău", ("ro", "ru", "en"), None, {},
                    "Interview and decision on formal identification by the competent "
                    "authority; the referring agency keeps the case.", 5),
    ), "The competent authority for formal identification."),
    DemoProvider("Casa Luminii Shelter for Survivors", "ngo", "shelter",
                 "adapost@casa-luminii.example.md", "+373 22 000 101", (
        DemoService("Women's shelter", "shelter", "Chișinău", "Chișinău",
                    ("ro", "ru", "en"), 16, {"genders": ["female"], **ADULTS},
                    "Safe, confidential accommodation for women and their children, "
                    "24 hours a day.", 1),
        DemoService("Trauma counselling", "psychological", "Chișinău", "Chișinău",
                    ("ro", "ru", "uk"), 20),
        DemoService("Reintegration plan and follow-up", "return_reintegration", "Chișinău",
                    "Chișinău", ("ro", "ru"), None, {**ADULTS}),
    ), "Shelter and rehabilitation centre for women survivors of trafficking."),
    DemoProvider("Calea Nouă Counter-Trafficking Centre", "ngo", "ngo",
                 "contact@calea-noua.example.md", "+373 22 000 102", (
        DemoService("Legal information and accompaniment", "legal_aid", "Chișinău",
                    "Chișinău", ("ro", "ru", "en"), None, {}, "Rights, reflection period, "
                    "accompaniment to the police and the court."),
        DemoService("Emergency material assistance", "material_assistance", "Chișinău",
                    "Chișinău", ("ro", "ru"), 40, {}, "Clothes, food, hygiene kits, "
                    "transport money.", 2),
        DemoService("Individual counselling", "psychological", "Ungheni", "Ungheni",
                    ("ro",), 10),
    )),
    DemoProvider("Social Assistance Directorate, Bălți", "social_services", "social-assistance",
                 "asistenta@balti.example.md", "+373 231 00 103", (
        DemoService("Placement centre for children", "shelter", "Bălți", "Bălți",
                    ("ro", "ru"), 10, {**CHILDREN}, "Temporary placement of unaccompanied "
                    "or separated children, with a guardian appointed.", 1),
        DemoService("Social allowance and material support", "material_assistance", "Bălți",
                    "Bălți", ("ro", "ru"), None),
        DemoService("Return to school", "education", "Bălți", "Bălți", ("ro", "ru"), 15,
                    {"min_age": 7, "max_age": 18}),
    )),
    DemoProvider("Community Health Centre, Cahul", "health_service", "health",
                 "cms@cahul.example.md", "+373 299 00 104", (
        DemoService("Medical examination and treatment", "medical", "Cahul", "Cahul",
                    ("ro", "ru"), None, {}, "Free of charge for presumed victims.", 2),
        DemoService("Reproductive health consultation", "medical", "Cahul", "Cahul",
                    ("ro", "ru"), 6, {"genders": ["female"], "min_age": 14}),
    )),
    DemoProvider("International Migration Organisation, Country Office",
                 "international_organisation", "io-office", "return@imo.example.md",
                 "+373 22 000 105", (
        DemoService("Assisted voluntary return", "return_reintegration", "Chișinău",
                    "Chișinău", ("ro", "ru", "uk", "en"), None, {}, "Travel documents, "
                    "escort and reception in the country of origin.", 5),
        DemoService("Small business grant", "employment", "Chișinău", "Chișinău",
                    ("ro", "ru"), 12, {**ADULTS}),
    )),
    DemoProvider("Municipal Clinical Hospital No. 3", "health_service", "",
                 "primire@spital3.example.md", "+373 22 000 201", (
        DemoService("Emergency and in-patient care", "medical", "Chișinău", "Chișinău",
                    ("ro", "ru"), None, {}, "", 1),
        DemoService("Psychiatric consultation", "psychological", "Chișinău", "Chișinău",
                    ("ro", "ru"), 4, {**ADULTS}),
    )),
    DemoProvider("State-Guaranteed Legal Aid, Chișinău Territorial Office", "central_government",
                 "", "chisinau@legal-aid.example.md", "+373 22 000 202", (
        DemoService("Lawyer for victims in criminal proceedings", "legal_aid", "Chișinău",
                    "Chișinău", ("ro", "ru"), None, {}, "A lawyer is appointed within "
                    "24 hours of the request.", 3),
    )),
    DemoProvider("State-Guaranteed Legal Aid, Bălți Territorial Office", "central_government",
                 "", "balti@legal-aid.example.md", "+373 231 00 203", (
        DemoService("Lawyer for victims in criminal proceedings", "legal_aid", "Bălți",
                    "Bălți", ("ro", "ru"), None, {}, "", 3),
    )),
    DemoProvider("Interpreters' Cooperative Verba", "ngo", "",
                 "booking@verba.example.md", "+373 69 000 204", (
        DemoService("Interpreting at interviews and in court", "interpretation", "Chișinău",
                    "Chișinău", ("ro", "ru", "uk", "en", "tr", "uz", "az"), None, {},
                    "Sworn interpreters; telephone interpreting within the hour.", 1),
    )),
    DemoProvider("Employment Agency, Cahul Office", "local_government", "",
                 "cahul@employment.example.md", "+373 299 00 205", (
        DemoService("Job placement and vocational training", "employment", "Cahul", "Cahul",
                    ("ro", "ru"), 25, {"min_age": 16}),
    )),
    DemoProvider("Speranța Men's Shelter, Ungheni", "ngo", "",
                 "speranta@ungheni.example.md", "+373 236 00 206", (
        DemoService("Shelter for men", "shelter", "Ungheni", "Ungheni", ("ro", "ru", "uk"),
                    8, {"genders": ["male"], **ADULTS}, "", 2),
    )),
    DemoProvider("Gagauzia Family Support Centre", "social_services", "",
                 "family@comrat.example.md", "+373 298 00 207", (
        DemoService("Family counselling", "psychological", "Comrat", "Găgăuzia",
                    ("ru", "tr"), 10),
        DemoService("Mother and child room", "shelter", "Comrat", "Găgăuzia", ("ru",), 4,
                    {"genders": ["female"]}),
    )),
    DemoProvider("Orhei Vocational School No. 2", "local_government", "",
                 "admitere@orhei-school.example.md", "+373 235 00 208", (
        DemoService("Vocational courses (cook, tailor, welder)", "education", "Orhei",
                    "Orhei", ("ro",), 30, {"min_age": 16, "max_age": 35}),
    )),
)


def _coordinator() -> User:
    coordinator = User.objects.filter(role=Role.NATIONAL_COORDINATOR, is_active=True,
                                      agency__code=COORDINATION_AGENCY).first()
    if coordinator is None:
        ensure_demo_accounts()
        coordinator = User.objects.get(username="coordinator")
    return coordinator


def create_demo_directory(seed: int = 2026) -> int:
    """Create the demo directory and return how many services it has; does nothing (0) if
    the directory has providers already."""
    if Provider.objects.exists():
        return 0
    rng = random.Random(seed)
    coordinator = _coordinator()
    country = settings.OPENNRM_COUNTRY
    agencies = {agency.code: agency for agency in Agency.objects.filter(is_active=True)}
    created = 0
    with transaction.atomic():
        for demo in DEMO_PROVIDERS:
            agency = agencies.get(demo.agency)
            provider = services.create_provider(coordinator, {
                "name": demo.name, "organisation_type": demo.organisation_type,
                "agency": agency, "email": demo.email, "phone": demo.phone,
                "description": demo.description, "country": country,
            }, channel=CHANNEL)
            channel = (ContactChannel.IN_SYSTEM if agency
                       else rng.choice([ContactChannel.EMAIL, ContactChannel.PHONE]))
            for item in demo.services:
                places = rng.randint(0, item.capacity) if item.capacity else None
                services.create_service(coordinator, provider, {
                    "name": item.name, "service_type": item.service_type,
                    "description": item.description, "city": item.city,
                    "region": item.region, "country": country,
                    "languages": list(item.languages), "capacity": item.capacity,
                    "places_available": places, "contact_channel": channel,
                    "response_days": item.response_days, **item.eligibility,
                }, channel=CHANNEL)
                created += 1
    return created
