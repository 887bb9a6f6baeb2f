"""Synthetic demo data for a national node: agencies, users and presumed-victim cases.

Every person here is invented. The data is made to look like an NRM's register so that the
UI, the statistics and the benchmarks have something realistic to work on; it is not a
statistical model of any country. The shares below are rough orders of magnitude taken
from public reporting (GLOTIP, CTDC, Eurostat crim_thb) for Moldova and its region.

Agencies (all in ``settings.OPENNRM_COUNTRY``): two NGOs (a counselling centre and a
shelter), the police anti-trafficking unit, the border police, the labour inspectorate, the
prosecution office, a social assistance directorate, a health service, the international
organisation's office and the national coordinator's office. Each has a caseworker and a
supervisor; the coordinator's office also has the national coordinator and an analyst; an
auditor and an administrator belong to no agency. Passwords are fixed demo passwords, the
same for every user of a role (``DEMO_PASSWORDS``): never load the demo into a real node.

Cases, each registered through ``services.register_cases`` by a caseworker of the owning
agency (police 24 %, NGO 22 %, social assistance 15 %, IO office 9 %, border police 8 %,
shelter 8 %, labour inspectorate 6 %, prosecution, health, coordinator's office 2–3 %):

* Form of exploitation: sexual exploitation 44 %, forced labour 38 %, forced begging 5 %,
  forced criminality 4 %, forced marriage 2.5 %, child labour 2 %, servitude 2 %, a few
  surrogacy, illegal adoption, organ removal and other; about 1 in 20 sexual-exploitation
  cases has a second form. Agencies lean to their field (the labour inspectorate sees
  mostly forced labour, the shelter and the health service mostly sexual exploitation).
* Forced-labour sector (ISIC): construction (F) 30 %, agriculture (A) 25 %, manufacturing,
  accommodation and food, domestic work (T), transport, trade, other services.
* Gender: sexual exploitation 94 % female; forced marriage 97 % female; forced labour in
  construction 92 % male, agriculture 75 % male, domestic work 90 % female; forced begging
  about even; forced criminality 70 % male; a few "transgender or other" and "unknown".
* Age at first contact: adults skewed to 18–38 (CTDC bands); children about 15–25 % overall
  (a fifth of sexual exploitation, half of forced begging and forced marriage, all child
  labour). 2 % have an uncertain age (presumed children, CETS 197 art. 10(3)), 10 % only a
  birth year.
* Citizenship: Moldova 72 % (one in ten also Romanian), then Ukraine, Uzbekistan, Romania,
  Russia, Azerbaijan, Belarus, Türkiye, Tajikistan, Georgia, Kazakhstan, Armenia.
* Names in the script of the person's papers: Moldovans in Romanian (Latin) or, for a
  quarter, Russian (Cyrillic); Ukrainians mostly in Ukrainian Cyrillic; Russians, Belarusians,
  Central Asians and Caucasians in Russian Cyrillic except Azerbaijani, Uzbek and Turkish
  names in Latin. Languages follow (ro, ru, uk, az, tr, uz …).
* Countries of exploitation for Moldovans: sexual exploitation mostly Türkiye, Russia, UAE,
  Israel, Cyprus, Moldova itself and the EU; forced labour mostly Russia, Germany, Poland,
  Italy, Czechia, Moldova. Foreigners were mostly exploited in Moldova.
* First contact spread over the last five years, more in recent years; exploitation ended
  weeks before it (still ongoing in 15 % of cases); aliases 10 %, identity documents 60 %,
  phone 50 %, address 30 %, a short note 35 %.
* About 3 % of cases register again, at another agency, a person already registered — the
  double counting that deduplication must find — sometimes in the other script (Иванов /
  Ivanov) or with cedilla instead of comma diacritics (ș / ş).

Generation is seeded (``seed``) and fast: Faker is only used to fill name and address
pools once per locale; cases are drawn from the pools with one ``random.Random``.
"""

import multiprocessing
import os
import random
from bisect import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from itertools import accumulate

import phonenumbers
from anyascii import anyascii
from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone
from faker import Faker

from opennrm.accounts.models import Agency, Role, User
from opennrm.accounts.provisioning import create_agency, create_user
from opennrm.cases.models import Case
from opennrm.cases.services import Registration, register_cases
from opennrm.core.keyring import get_keyring

BATCH_SIZE = 2000
PARALLEL_FROM = 10_000  # cases; below this, worker start-up is not worth it
CHANNEL = "cli"

DEMO_PASSWORDS = {
    Role.CASEWORKER: "demo-caseworker-2026!",
    Role.SUPERVISOR: "demo-supervisor-2026!",
    Role.NATIONAL_COORDINATOR: "demo-coordinator-2026!",
    Role.ANALYST: "demo-analyst-2026!",
    Role.REGIONAL_ANALYST: "demo-hub-figures-2026!",
    Role.AUDITOR: "demo-auditor-2026!",
    Role.ADMINISTRATOR: "demo-administrator-2026!",
}


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    agency_name: str


@dataclass(frozen=True)
class DemoResult:
    cases_created: int
    logins: list[DemoLogin]


@dataclass(frozen=True)
class DemoAgency:
    code: str
    name: str
    agency_type: str
    share: float  # of the cases registered
    form_bias: tuple[tuple[str, float], ...] = ()  # multiplies the form weights


DEMO_AGENCIES = (
    DemoAgency("ngo", "Calea Nouă Counter-Trafficking Centre", "ngo", 0.22),
    DemoAgency("shelter", "Casa Luminii Shelter for Survivors", "ngo", 0.08,
               (("sexual_exploitation", 2.0), ("forced_marriage", 2.0))),
    DemoAgency("police", "Police Anti-Trafficking Unit", "law_enforcement", 0.24,
               (("forced_criminality", 2.0),)),
    DemoAgency("border-police", "Border Police, Airport and Prut Sector", "border_guard", 0.08),
    DemoAgency("labour-inspectorate", "State Labour Inspectorate", "labour_inspection", 0.06,
               (("forced_labour", 6.0), ("child_labour", 3.0), ("sexual_exploitation", 0.1))),
    DemoAgency("prosecution", "Prosecution Office for Organised Crime", "prosecution", 0.03),
    DemoAgency("social-assistance", "Social Assistance Directorate, Bălți", "social_services",
               0.15, (("forced_begging", 2.0), ("child_labour", 2.0))),
    DemoAgency("health", "Community Health Centre, Cahul", "health_service", 0.03,
               (("sexual_exploitation", 1.5), ("organ_removal", 5.0))),
    DemoAgency("io-office", "International Migration Organisation, Country Office",
               "international_organisation", 0.09),
    DemoAgency("coordination", "National Anti-Trafficking Coordination Office",
               "central_government", 0.02),
)
COORDINATION_AGENCY = "coordination"
OTHER_USERS = (  # username, role, agency code ("" for none)
    ("coordinator", Role.NATIONAL_COORDINATOR, COORDINATION_AGENCY),
    ("analyst", Role.ANALYST, COORDINATION_AGENCY),
    ("regional-analyst", Role.REGIONAL_ANALYST, ""),
    ("auditor", Role.AUDITOR, ""),
    ("admin", Role.ADMINISTRATOR, ""),
)


# --- agencies and users -------------------------------------------------------------------

def ensure_demo_accounts() -> list[DemoLogin]:
    """Create the demo agencies and users that do not exist yet; return every demo login.

    Existing ones are left as they are (a changed password stays changed).
    """
    country = settings.OPENNRM_COUNTRY
    logins = []
    with transaction.atomic():
        agencies = {a.code: a for a in Agency.objects.filter(
            code__in=[d.code for d in DEMO_AGENCIES])}
        for demo in DEMO_AGENCIES:
            if demo.code not in agencies:
                agencies[demo.code] = create_agency(demo.code, demo.name, demo.agency_type,
                                                    country)
        wanted = [(f"{demo.code}-{role.value}", role, demo.code)
                  for demo in DEMO_AGENCIES for role in (Role.CASEWORKER, Role.SUPERVISOR)]
        wanted += list(OTHER_USERS)
        existing = set(User.objects.filter(username__in=[w[0] for w in wanted])
                       .values_list("username", flat=True))
        for username, role, agency_code in wanted:
            password = DEMO_PASSWORDS[role]
            if username not in existing:
                # An address, so the demo shows its e-mail notifications (printed on the
                # console by the worker that `opennrm run` starts).
                create_user(username, password, role, agency_code,
                            email=f"{username}@demo.opennrm.example")
            agency_name = agencies[agency_code].name if agency_code else ""
            logins.append(DemoLogin(username, password, role.value, agency_name))
    return logins


# --- weighted choices ---------------------------------------------------------------------

class Weighted:
    """A fixed weighted choice, drawn with a bisect on precomputed cumulative weights."""

    def __init__(self, weights: dict | Sequence[tuple]):
        pairs = list(weights.items()) if isinstance(weights, dict) else list(weights)
        self.values = [value for value, _ in pairs]
        self.cumulative = list(accumulate(weight for _, weight in pairs))
        self.total = self.cumulative[-1]

    def draw(self, rng: random.Random):
        return self.values[bisect(self.cumulative, rng.random() * self.total)]


FORMS = {
    "sexual_exploitation": 44, "forced_labour": 38, "forced_begging": 5,
    "forced_criminality": 4, "forced_marriage": 2.5, "child_labour": 2, "servitude": 2,
    "surrogacy": 0.3, "illegal_adoption": 0.2, "organ_removal": 0.2, "other": 1.6,
}
CHILD_SHARE = {
    "sexual_exploitation": 0.20, "forced_labour": 0.07, "forced_begging": 0.55,
    "forced_criminality": 0.30, "forced_marriage": 0.50, "child_labour": 1.0,
    "servitude": 0.15, "surrogacy": 0.0, "illegal_adoption": 1.0, "organ_removal": 0.0,
    "other": 0.2,
}
LABOUR_SECTORS = {
    "forced_labour": Weighted({"F": 30, "A": 25, "C": 10, "I": 10, "T": 8, "H": 5, "G": 4,
                               "S": 4, "B": 2, "N": 2}),
    "child_labour": Weighted({"A": 50, "G": 25, "S": 15, "T": 10}),
    "servitude": Weighted({"T": 80, "A": 20}),
}
# Share of men and boys, by form of exploitation (and labour sector).
MALE_SHARE = {
    "sexual_exploitation": 0.06, "forced_marriage": 0.03, "forced_begging": 0.5,
    "forced_criminality": 0.7, "child_labour": 0.6, "servitude": 0.2, "surrogacy": 0.0,
    "illegal_adoption": 0.5, "organ_removal": 0.8, "other": 0.4,
}
MALE_SHARE_BY_SECTOR = {"F": 0.92, "A": 0.75, "C": 0.6, "I": 0.4, "T": 0.1, "H": 0.9,
                        "G": 0.5, "S": 0.4, "B": 0.95, "N": 0.6}
ADULT_AGES = Weighted([((18, 20), 16), ((21, 23), 16), ((24, 26), 14), ((27, 29), 12),
                       ((30, 38), 24), ((39, 47), 12), ((48, 62), 6)])
CHILD_AGES = Weighted([((4, 8), 8), ((9, 13), 22), ((14, 15), 30), ((16, 17), 40)])
SECOND_FORM = Weighted({"forced_labour": 2, "forced_criminality": 1, "forced_begging": 1})
OTHER_GENDER = Weighted({"transgender_or_other": 3, "unknown": 5})

# citizenship → (share, names locale weights, language sets)
CITIZENSHIPS = {
    "MD": (72, {"ro_RO": 75, "ru_RU": 25}, None),
    "UA": (8, {"uk_UA": 80, "ru_RU": 20}, [["uk", "ru"], ["uk"]]),
    "UZ": (3, {"uz_UZ": 1}, [["uz", "ru"], ["uz"]]),
    "RO": (3, {"ro_RO": 1}, [["ro"]]),
    "RU": (3, {"ru_RU": 1}, [["ru"]]),
    "AZ": (2, {"az_AZ": 1}, [["az", "ru"], ["az", "tr"]]),
    "BY": (1.5, {"ru_RU": 1}, [["ru"], ["be", "ru"]]),
    "TR": (1.5, {"tr_TR": 1}, [["tr"]]),
    "TJ": (1.5, {"ru_RU": 1}, [["tg", "ru"]]),
    "GE": (1.5, {"ru_RU": 1}, [["ka", "ru"]]),
    "KZ": (1, {"ru_RU": 1}, [["kk", "ru"], ["ru"]]),
    "AM": (1, {"ru_RU": 1}, [["hy", "ru"]]),
}
MD_LANGUAGES = {"ro_RO": [["ro"], ["ro"], ["ro", "ru"]], "ru_RU": [["ru"], ["ru", "ro"]]}
NAME_LOCALES = ("ro_RO", "ru_RU", "uk_UA", "az_AZ", "tr_TR", "uz_UZ")

EXPLOITATION_COUNTRIES = {
    "sexual_exploitation": Weighted({"TR": 22, "RU": 12, "MD": 12, "AE": 10, "IL": 7,
                                     "CY": 6, "DE": 6, "IT": 5, "UA": 4, "RO": 4, "GR": 4,
                                     "GB": 3, "NL": 3, "FR": 2}),
    "labour": Weighted({"RU": 30, "DE": 10, "PL": 8, "IT": 8, "MD": 8, "CZ": 6, "TR": 6,
                        "IL": 5, "UA": 5, "GB": 5, "FR": 4, "RO": 3, "ES": 2}),
    "begging": Weighted({"RU": 30, "MD": 25, "IT": 10, "RO": 10, "UA": 10, "DE": 10,
                         "FR": 5}),
    "forced_marriage": Weighted({"MD": 30, "TR": 20, "RU": 20, "AZ": 10, "DE": 10, "UA": 10}),
}
EXPLOITATION_TABLE = {
    "sexual_exploitation": "sexual_exploitation", "surrogacy": "sexual_exploitation",
    "forced_labour": "labour", "child_labour": "labour", "servitude": "labour",
    "organ_removal": "labour", "other": "labour", "forced_begging": "begging",
    "forced_criminality": "begging", "illegal_adoption": "begging",
    "forced_marriage": "forced_marriage",
}
TRANSIT_COUNTRIES = ("UA", "RO", "RU", "TR", "HU", "PL", "BY", "GE", "BG")

MEANS_OF_CONTROL = {
    "sexual": Weighted({"psychological_abuse": 20, "threats": 18, "physical_abuse": 14,
                        "sexual_abuse": 12, "false_promises": 14, "takes_earnings": 12,
                        "restricts_movement": 10, "withholds_documents": 8,
                        "psychoactive_substances": 5, "debt_bondage": 6}),
    "labour": Weighted({"excessive_working_hours": 20, "takes_earnings": 18,
                        "withholds_documents": 15, "false_promises": 15, "debt_bondage": 12,
                        "threats": 10, "restricts_movement": 8, "withholds_necessities": 6,
                        "threat_of_law_enforcement": 6, "physical_abuse": 5,
                        "restricts_medical_care": 3}),
}
RECRUITER_RELATIONS = {
    "sexual": Weighted({"friend": 35, "intimate_partner": 25, "family": 8, "stranger": 10,
                        "employer": 7, "unknown": 13, "other": 2}),
    "labour": Weighted({"employer": 40, "friend": 25, "family": 5, "stranger": 12,
                        "unknown": 15, "other": 3}),
}
PHONE_PREFIXES = {
    "MD": ("+373 6", "+373 7"), "UA": ("+380 67", "+380 50", "+380 93"), "RO": ("+40 7",),
    "RU": ("+7 9",), "BY": ("+375 29",), "AZ": ("+994 50",), "TR": ("+90 5",),
    "UZ": ("+998 9",), "TJ": ("+992 9",), "GE": ("+995 5",), "KZ": ("+7 7",),
    "AM": ("+374 9",),
}


def _phone(prefix: str, draw: int) -> str:
    """A mobile number of the prefix's country from a random 8-digit draw, cut or padded to
    the country's length (a valid number when one is found, else a possible one)."""
    digits = str(draw)
    for check in (phonenumbers.is_valid_number, phonenumbers.is_possible_number):
        for extra in (digits, digits[:7], digits + "0", digits[:6], digits + "00"):
            number = phonenumbers.parse(prefix + extra)
            if check(number):
                return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return prefix.replace(" ", "") + digits


MD_TOWNS = ("Chișinău", "Bălți", "Cahul", "Ungheni", "Soroca", "Orhei", "Comrat", "Edineț",
            "Hîncești", "Căușeni", "Strășeni", "Florești", "Drochia", "Ialoveni", "Leova")
# Faker's ro_RO list has few family names; these are among Moldova's most common.
MD_FAMILY_NAMES = ("Rusu", "Ceban", "Ciobanu", "Țurcanu", "Sârbu", "Lungu", "Munteanu",
                   "Cojocaru", "Moraru", "Roșca", "Bivol", "Guțu", "Melnic", "Popa",
                   "Botnari", "Cebotari", "Grosu", "Rotari", "Pascari", "Ursu", "Vrabie",
                   "Căldare", "Țâmbalari", "Lupașcu", "Cușnir", "Bejenari", "Ștefăneț")
NOTES = (
    "Referred by the hotline after a call from a relative.",
    "Came to the border crossing point without documents.",
    "Needs medical care and psychological counselling.",
    "Asked for help at the consulate abroad; return organised.",
    "Identified during a labour inspection.",
    "Afraid of the recruiter, who knows the family.",
    "Wants to return home; needs help with new documents.",
    "Debt to the recruiter still claimed; threats to the family.",
    "Accompanied by a social worker to the first interview.",
    "Interpreter needed for the interview.",
)
DIACRITIC_CEDILLA = str.maketrans("șțȘȚ", "şţŞŢ")


# --- pools of names and addresses ---------------------------------------------------------

@dataclass(frozen=True)
class NamePool:
    given: dict[str, tuple[str, ...]]  # by gender ("female", "male")
    family: dict[str, tuple[str, ...]]
    addresses: tuple[str, ...]


def _draw_unique(make: Callable[[], str], count: int) -> tuple[str, ...]:
    return tuple(sorted({make() for _ in range(count)}))


@cache
def name_pool(locale: str, seed: int) -> NamePool:
    """Names and street addresses of one locale, drawn once from a seeded Faker."""
    fake = Faker(locale)
    fake.seed_instance(seed)
    given = {"female": _draw_unique(fake.first_name_female, 400),
             "male": _draw_unique(fake.first_name_male, 400)}
    family = {"female": _draw_unique(fake.last_name_female, 600),
              "male": _draw_unique(fake.last_name_male, 600)}
    if locale == "ro_RO":
        family = {gender: names + MD_FAMILY_NAMES for gender, names in family.items()}
    addresses = _draw_unique(fake.street_address, 300)
    return NamePool(given, family, addresses)


# --- cases --------------------------------------------------------------------------------

@dataclass
class Identity:
    """A generated person, kept so that a few may be registered again elsewhere."""

    given_name: str
    family_name: str
    birth_date: date
    gender: str
    citizenships: list[str]
    languages: list[str]
    first_contact_on: date
    agency_code: str


class CaseFactory:
    """Draws realistic registration data for one batch of a demo run.

    Each batch has its own random stream (from the seed and the batch number), so a seed
    gives the same people whether batches run one after another or in parallel.
    """

    def __init__(self, seed: int, batch: int, today: date):
        self.rng = random.Random(f"{seed}/{batch}")
        self.today = today
        self.citizenships = Weighted({code: entry[0] for code, entry in CITIZENSHIPS.items()})
        self.locales = {code: Weighted(entry[1]) for code, entry in CITIZENSHIPS.items()}
        self.pools = {locale: name_pool(locale, seed) for locale in NAME_LOCALES}
        self.agencies = Weighted([(demo, demo.share) for demo in DEMO_AGENCIES])
        self.forms_by_agency = {
            demo.code: Weighted({form: weight * dict(demo.form_bias).get(form, 1.0)
                                 for form, weight in FORMS.items()})
            for demo in DEMO_AGENCIES
        }
        self.recent: list[Identity] = []

    def next_case(self) -> tuple[str, dict]:
        """(agency code, registration data) of the next case."""
        rng = self.rng
        agency = self.agencies.draw(rng).code
        if self.recent and rng.random() < 0.03:
            again = self._registered_again(agency)
            if again is not None:
                return again
        form = self.forms_by_agency[agency].draw(rng)
        forms = [form]
        if form == "sexual_exploitation" and rng.random() < 0.05:
            forms.append(SECOND_FORM.draw(rng))
        sector = LABOUR_SECTORS[form].draw(rng) if form in LABOUR_SECTORS else ""
        gender = self._gender(form, sector)
        child = rng.random() < CHILD_SHARE[form]
        low, high = (CHILD_AGES if child else ADULT_AGES).draw(rng)
        age = rng.randint(low, high)
        # More registrations in recent years: a triangular draw with its mode at today.
        first_contact = self.today - timedelta(days=int(rng.triangular(0, 5 * 365, 0)))
        birth_date = first_contact - timedelta(days=age * 365 + rng.randint(0, 364))
        citizenship = self.citizenships.draw(rng)
        locale = self.locales[citizenship].draw(rng)
        pool = self.pools[locale]
        name_gender = gender if gender in ("female", "male") else rng.choice(("female", "male"))
        given = rng.choice(pool.given[name_gender])
        family = rng.choice(pool.family[name_gender])
        citizenships = [citizenship]
        if citizenship == "MD" and rng.random() < 0.1:
            citizenships.append("RO")
        language_sets = (MD_LANGUAGES[locale] if citizenship == "MD"
                         else CITIZENSHIPS[citizenship][2])
        languages = list(rng.choice(language_sets))
        data = {
            "given_name": given, "family_name": family, "gender": gender,
            "citizenships": citizenships, "languages": languages,
            "first_contact_on": first_contact, "exploitation_forms": forms,
        }
        known = rng.random()
        if known < 0.02:
            # Age not established: a child is presumed one; an adult is recorded as such.
            data["age_uncertainty"] = "possibly_child" if child else "adult"
        elif known < 0.12:
            data["birth_year"] = birth_date.year
        else:
            data["birth_date"] = birth_date
        if sector:
            data["labour_sector"] = sector
        self._exploitation(data, form, citizenship, first_contact, age)
        self._contacts(data, pool, citizenship, given, child, locale)
        if "birth_date" in data:
            self._remember(Identity(given, family, birth_date, gender, citizenships,
                                    languages, first_contact, agency))
        return agency, data

    def _gender(self, form: str, sector: str) -> str:
        rng = self.rng
        if rng.random() < 0.008:
            return OTHER_GENDER.draw(rng)
        male = MALE_SHARE_BY_SECTOR[sector] if form == "forced_labour" else MALE_SHARE[form]
        return "male" if rng.random() < male else "female"

    def _exploitation(self, data: dict, form: str, citizenship: str, first_contact: date,
                      age: int) -> None:
        rng = self.rng
        if citizenship != "MD" and rng.random() < 0.6:
            country = "MD"
        else:
            country = EXPLOITATION_COUNTRIES[EXPLOITATION_TABLE[form]].draw(rng)
        data["exploitation_countries"] = [country]
        data["recruitment_countries"] = [citizenship if rng.random() < 0.9 else "MD"]
        if country != citizenship and rng.random() < 0.25:
            transit = [c for c in rng.sample(TRANSIT_COUNTRIES, rng.randint(1, 2))
                       if c not in (country, citizenship)]
            if transit:
                data["transit_countries"] = transit
        if rng.random() < 0.85:
            ended = first_contact - timedelta(days=rng.randint(0, 120))
            data["exploitation_ended_on"] = ended
        else:
            ended = first_contact
        longest = max(age * 365 // 3, 10)
        data["exploitation_started_on"] = ended - timedelta(days=rng.randint(7, min(1000,
                                                                                   longest)))
        kind = "sexual" if form in ("sexual_exploitation", "forced_marriage",
                                    "surrogacy") else "labour"
        data["means_of_control"] = sorted({MEANS_OF_CONTROL[kind].draw(rng)
                                           for _ in range(rng.randint(1, 4))})
        data["recruiter_relation"] = RECRUITER_RELATIONS[kind].draw(rng)

    def _contacts(self, data: dict, pool: NamePool, citizenship: str, given: str,
                  child: bool, locale: str) -> None:
        rng = self.rng
        if rng.random() < 0.10:
            gender = "female" if data["gender"] == "female" else "male"
            data["aliases"] = [rng.choice(pool.given[gender])]
        if rng.random() < 0.60:
            if child and rng.random() < 0.5:
                kind = "birth_certificate"
            elif citizenship == "MD" and rng.random() < 0.5:
                kind = "national_id"
            else:
                kind = "passport"
            if kind == "national_id":
                number = f"2{rng.randrange(10**11, 10**12)}"
            else:
                number = (chr(65 + rng.randrange(26)) + chr(65 + rng.randrange(26))
                          + str(rng.randrange(10**6, 10**7)))
            data["identity_documents"] = [{"document_type": kind, "number": number,
                                           "country": citizenship}]
        if rng.random() < 0.50:
            prefix = rng.choice(PHONE_PREFIXES[citizenship])
            data["phone"] = _phone(prefix, rng.randrange(10**7, 10**8))
        if rng.random() < 0.30:
            street = rng.choice(pool.addresses)
            data["address"] = (f"{street}, {rng.choice(MD_TOWNS)}" if citizenship == "MD"
                               else street)
        if rng.random() < 0.35:
            data["notes"] = rng.choice(NOTES)

    def _remember(self, identity: Identity) -> None:
        if len(self.recent) < 5000:
            self.recent.append(identity)
        else:
            self.recent[self.rng.randrange(5000)] = identity

    def _registered_again(self, agency: str) -> tuple[str, dict] | None:
        """The same person registered by another agency, maybe written differently."""
        rng = self.rng
        person = rng.choice(self.recent)
        if person.agency_code == agency:
            return None
        given, family = person.given_name, person.family_name
        if rng.random() < 0.5:
            if _is_cyrillic(family):
                given, family = anyascii(given), anyascii(family)
            else:
                given = given.translate(DIACRITIC_CEDILLA)
                family = family.translate(DIACRITIC_CEDILLA)
        first_contact = min(self.today,
                            person.first_contact_on + timedelta(days=rng.randint(1, 90)))
        form = self.forms_by_agency[agency].draw(rng)
        data = {
            "given_name": given, "family_name": family, "birth_date": person.birth_date,
            "gender": person.gender, "citizenships": list(person.citizenships),
            "languages": list(person.languages), "first_contact_on": first_contact,
            "exploitation_forms": [form],
        }
        if form in LABOUR_SECTORS:
            data["labour_sector"] = LABOUR_SECTORS[form].draw(rng)
        age = (first_contact - person.birth_date).days // 365
        self._exploitation(data, form, person.citizenships[0], first_contact, age)
        return agency, data


def _is_cyrillic(text: str) -> bool:
    return any("\u0400" <= char <= "\u04ff" for char in text)


# --- the demo -----------------------------------------------------------------------------

def generate_demo(cases: int, progress: Callable[[int], None] | None = None,
                  seed: int | None = None, workers: int | None = None) -> DemoResult:
    """Create the demo agencies and users (once) and register `cases` synthetic cases.

    Cases go through `register_cases` in batches, as imports do, so they are validated,
    encrypted and audited like any other. `progress(n)` is called after each batch with the
    number of cases it registered. The same `seed` gives the same people. On PostgreSQL,
    large loads run batches in `workers` processes (default: one per CPU, at most four);
    the audit chain stays one chain because each append locks its head.
    """
    logins = ensure_demo_accounts()
    if cases <= 0:
        return DemoResult(0, logins)
    seed = random.randrange(2**32) if seed is None else seed
    today = timezone.localdate()
    tasks = [(seed, batch, min(BATCH_SIZE, cases - start), today)
             for batch, start in enumerate(range(0, cases, BATCH_SIZE))]
    workers = _default_workers(cases) if workers is None else workers
    for locale in NAME_LOCALES:
        name_pool(locale, seed)  # once, before any fork
    # Before any fork too: children that each found no key ring would each create one.
    get_keyring()
    if workers > 1 and len(tasks) > 1:
        # Forked children must not share the parent's database connection.
        connections.close_all()
        pool = multiprocessing.get_context("fork").Pool(min(workers, len(tasks)))
        try:
            for registered in pool.imap_unordered(_register_batch, tasks):
                if progress is not None:
                    progress(registered)
            pool.close()
        finally:
            pool.terminate()
            pool.join()
    else:
        for task in tasks:
            registered = _register_batch(task)
            if progress is not None:
                progress(registered)
    return DemoResult(cases, logins)


def _default_workers(cases: int) -> int:
    parallel_possible = (
        cases >= PARALLEL_FROM
        and connection.vendor == "postgresql"
        # Inside a transaction (a test), other processes would not see the demo users.
        and not connection.in_atomic_block
        and "fork" in multiprocessing.get_all_start_methods()
    )
    return min(os.cpu_count() or 1, 4) if parallel_possible else 1


def _register_batch(task: tuple[int, int, int, date]) -> int:
    seed, batch, size, today = task
    actors = {user.agency.code: user for user in User.objects.select_related("agency").filter(
        username__in=[f"{demo.code}-{Role.CASEWORKER.value}" for demo in DEMO_AGENCIES])}
    factory = CaseFactory(seed, batch, today)
    by_agency: dict[str, list[Registration]] = {}
    for _ in range(size):
        agency, data = factory.next_case()
        by_agency.setdefault(agency, []).append(Registration(data))
    for agency, registrations in by_agency.items():
        cases = register_cases(actors[agency], registrations, channel=CHANNEL)
        _backdate_registration(cases, factory.rng, today)
    return size


def _backdate_registration(cases: list[Case], rng: random.Random, today: date) -> None:
    """Demo cases were registered a few days after first contact, not all today."""
    for case in cases:
        delay = timedelta(days=rng.randint(0, 10), hours=rng.randint(8, 17))
        registered_on = min(today, case.first_contact_on + delay.days * timedelta(days=1))
        case.registered_at = timezone.make_aware(
            datetime.combine(registered_on, time(hour=delay.seconds // 3600)))
    Case.objects.bulk_update(cases, ["registered_at"], batch_size=1000)
