"""Fill an empty, migrated OpenNRM database with synthetic cases for the statistics benchmark.
Run in the node's environment (DATABASE_URL, OPENNRM_KEYRING); PostgreSQL or SQLite,
whichever DATABASE_URL names:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/opennrm_bench_statistics \\
        OPENNRM_KEYRING=benchmarks/results/statistics/postgres-keyring.json \\
        .venv/bin/python benchmarks/load_statistics.py --cases 20000

What it writes, for the statistics to read (`statistics.frames`):

* ten agencies of the demo's types, one caseworker each (the ORM), and a small service
  directory (providers of six agencies, 16 services of every service type);
* `--cases` cases, first contacted uniformly from 1 January of `--first-year` to `--today`
  (2019 to late 2026: a year holds about an eighth), each of its own person. About 3 % of
  the persons are the same person registered twice, by two agencies up to six months apart:
  both persons get `statistical_person_id` = the smaller id, and a same-person link joins
  the cases. Distributions follow the demo's (`cases/demo.py`), roughly: exploitation
  forms (1, sometimes 2 codes; sexual exploitation 44 %, forced labour 38 %…), gender by
  form, children about 20 %, birth year missing for 8 %, uncertain age 2 %, citizenship
  Moldova 72 % (a tenth also Romanian) then Ukraine, Uzbekistan, Romania, Russia…,
  countries of exploitation by citizenship and form, labour sector for labour exploitation,
  0–3 means of control, the relation to the recruiter; victim status presumed 75 %,
  identified 20 % (with a formal decision), not a victim 5 %; about 40 % closed (older
  cases more often) with a closure reason and date;
* per case 0–4 referrals (1.5 on average) to services of other agencies, sent after the
  first contact, in every state (open ones only within the last 120 days), with answer and
  end times; 1–3 assistance records per completed referral (fewer for others);
* identification decisions (identified; "not identified" for 60 % of non-victims),
  reflection periods for half the victims (15 % extended), residence permits for 40 % of
  the foreign victims with a period (10 % without), return plans for 3 % of the victims
  (children always with a risk assessment, adults 75 %).

Every NOT NULL column is filled (checked against the models before loading). Encrypted
columns the app always fills — a person's aliases and identity documents (an encrypted
empty list), a decision's grounds, an assistance's description, the reason a return had no
risk assessment — are encrypted by the field's own `get_prep_value` with the node's key
ring, so the rows are what the app writes; optional encrypted text (names, notes…) is left
empty. Not written, as the statistics read none of them: consents (referrals carry no
consent), referral events, notifications, screenings, support plans, audit entries.

Rows are drawn in chunks of 20,000 cases; each chunk is written in one transaction with
COPY on PostgreSQL and executemany on SQLite (with a 256 MB page cache), into the tables
with all their indexes; the database checks every foreign key at the chunk's commit. Then
VACUUM ANALYZE (PostgreSQL) or ANALYZE and a WAL checkpoint (SQLite). Prints one JSON line:
rows per table, seconds drawing the rows (Python) and writing them (the database), in all.
"""

import argparse
import json
import os
import random
import sys
import time
from bisect import bisect
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from types import SimpleNamespace

from harness import encrypter

CHUNK = 20_000

# code, name, type, share of the cases registered
AGENCIES = (
    ("ngo", "Calea Nouă Counter-Trafficking Centre", "ngo", 22),
    ("shelter", "Casa Luminii Shelter for Survivors", "ngo", 8),
    ("police", "Police Anti-Trafficking Unit", "law_enforcement", 24),
    ("border-police", "Border Police, Airport and Prut Sector", "border_guard", 8),
    ("labour-inspectorate", "State Labour Inspectorate", "labour_inspection", 6),
    ("prosecution", "Prosecution Office for Organised Crime", "prosecution", 3),
    ("social-assistance", "Social Assistance Directorate, Bălți", "social_services", 15),
    ("health", "Community Health Centre, Cahul", "health_service", 3),
    ("io-office", "International Migration Organisation, Country Office",
     "international_organisation", 9),
    ("coordination", "National Anti-Trafficking Coordination Office", "central_government", 2),
)
# The services each providing agency offers, and the days it agreed to answer in.
SERVICES = {
    "ngo": ("psychological", "legal_aid", "material_assistance"),
    "shelter": ("shelter", "psychological"),
    "social-assistance": ("shelter", "material_assistance", "education", "employment"),
    "health": ("medical", "psychological"),
    "io-office": ("return_reintegration", "legal_aid", "interpretation", "material_assistance"),
    "coordination": ("formal_identification",),
}
RESPONSE_DAYS = {"shelter": 2, "medical": 3, "formal_identification": 10}
TYPE_WEIGHTS = {"shelter": 3, "psychological": 3, "legal_aid": 2, "material_assistance": 2,
                "medical": 2, "return_reintegration": 1, "education": 1, "employment": 1,
                "interpretation": 0.5, "formal_identification": 1}
FORMS = {"sexual_exploitation": 44, "forced_labour": 38, "forced_begging": 5,
         "forced_criminality": 4, "forced_marriage": 2.5, "child_labour": 2, "servitude": 2,
         "surrogacy": 0.5, "illegal_adoption": 0.3, "organ_removal": 0.3, "other": 0.4}
LABOUR_FORMS = ("forced_labour", "child_labour", "servitude")
FEMALE_SHARE = {"sexual_exploitation": 0.94, "forced_marriage": 0.97, "forced_labour": 0.3,
                "child_labour": 0.4, "servitude": 0.7, "forced_criminality": 0.3,
                "surrogacy": 1.0, "illegal_adoption": 0.9}
CHILD_SHARE = {"sexual_exploitation": 0.2, "forced_begging": 0.5, "forced_marriage": 0.5,
               "child_labour": 1.0, "illegal_adoption": 1.0, "forced_labour": 0.07}
SECTORS = {"F": 30, "A": 25, "C": 12, "I": 10, "T": 10, "H": 5, "G": 5, "S": 3}
CITIZENSHIPS = {"MD": 72, "UA": 8, "UZ": 4, "RO": 3, "RU": 3, "AZ": 2, "BY": 1.5, "TR": 1.5,
                "TJ": 1.5, "GE": 1, "KZ": 1, "AM": 1, "IN": 0.5, "NG": 0.3, "": 0.5}
LANGUAGES = {"MD": "ro", "RO": "ro", "UA": "uk", "UZ": "uz", "AZ": "az", "TR": "tr",
             "IN": "hi", "NG": "en"}
# Where Moldovans were exploited, by kind of exploitation; foreigners mostly in Moldova.
ABROAD_SEXUAL = {"TR": 25, "RU": 15, "AE": 12, "IL": 8, "CY": 8, "MD": 12, "DE": 6,
                 "IT": 6, "FR": 4, "PL": 4}
ABROAD_LABOUR = {"RU": 30, "DE": 15, "PL": 12, "IT": 10, "CZ": 8, "MD": 15, "GB": 5,
                 "IL": 5}
MEANS = {"false_promises": 20, "takes_earnings": 15, "threats": 14, "psychological_abuse": 12,
         "withholds_documents": 10, "restricts_movement": 9, "debt_bondage": 8,
         "physical_abuse": 7, "excessive_working_hours": 6, "sexual_abuse": 5,
         "threat_of_law_enforcement": 3, "psychoactive_substances": 2, "other": 1}
RELATIONS = {"friend": 25, "stranger": 20, "employer": 20, "intimate_partner": 15,
             "family": 8, "other": 4, "unknown": 3, "": 5}
VICTIM_STATUS = {"presumed": 75, "identified": 20, "not_a_victim": 5}
CLOSURE_REASONS = {"assistance_completed": 40, "lost_contact": 20, "declined_assistance": 12,
                   "returned_abroad": 8, "referred_elsewhere": 10, "duplicate": 3,
                   "deceased": 0.5, "other": 5}
REFERRAL_COUNT = {0: 25, 1: 30, 2: 25, 3: 12, 4: 8}
STATES = {"completed": 57, "declined": 22, "cancelled": 8, "withdrawn": 4, "accepted": 4.5,
          "sent": 1.5, "stopped": 3}
PERMIT_TYPES = {"personal_situation": 40, "cooperation": 25, "personal_and_cooperation": 25,
                "other": 10}
MIGRATION_OFFICE = "General Inspectorate for Migration"
GROUNDS = ("Indicators of recruitment by deception and exploitation confirmed by the "
           "interview and the documents.")
ASSISTANCE = ("Accommodation in the shelter.", "Counselling session.",
              "Accompanied to the police interview.", "Medical examination.",
              "Food and hygiene kit.", "Enrolled in the course.")
NO_ASSESSMENT = "The person asked to return at once; the family is waiting at home."
TWIN_SHARE = 0.015  # of the cases: registered again by another agency (3 % of the persons)


class Weighted:
    """Draw a value with the given relative weights."""

    def __init__(self, weights: dict):
        self.values = list(weights)
        self.cumulative = list(accumulate(weights.values()))
        self.total = self.cumulative[-1]

    def draw(self, rng: random.Random):
        return self.values[bisect(self.cumulative, rng.random() * self.total)]


FORM_DRAW = Weighted(FORMS)
SECTOR_DRAW = Weighted(SECTORS)
CITIZENSHIP_DRAW = Weighted(CITIZENSHIPS)
SEXUAL_DRAW, LABOUR_DRAW = Weighted(ABROAD_SEXUAL), Weighted(ABROAD_LABOUR)
MEANS_DRAW = Weighted(MEANS)
RELATION_DRAW = Weighted(RELATIONS)
STATUS_DRAW = Weighted(VICTIM_STATUS)
CLOSURE_DRAW = Weighted(CLOSURE_REASONS)
COUNT_DRAW = Weighted(REFERRAL_COUNT)
STATE_DRAW = Weighted(STATES)
PERMIT_DRAW = Weighted(PERMIT_TYPES)
AGENCY_DRAW = Weighted({code: share for code, _name, _type, share in AGENCIES})

# The columns written per table (every NOT NULL column; `check_columns` makes sure).
PERSON_COLUMNS = ("id", "global_id", "given_name", "family_name", "aliases", "birth_date",
                  "identity_documents", "phone", "address", "name_index", "gender",
                  "birth_year", "age_uncertainty", "citizenships", "languages", "created_at",
                  "statistical_person_id")
CASE_COLUMNS = ("id", "global_id", "case_number", "person_id", "owner_agency_id",
                "assigned_to_id", "first_contact_on", "registered_at", "age_band",
                "age_at_first_contact", "is_child",
                "victim_status", "victim_status_decided_on",
                "victim_status_decided_by_agency_id", "victim_status_recorded_by_id",
                "exploitation_forms", "labour_sector", "recruitment_countries",
                "transit_countries", "exploitation_countries", "exploitation_started_on",
                "exploitation_ended_on", "means_of_control", "recruiter_relation", "notes",
                "status", "closure_reason", "closed_at", "updated_at", "first_contact_place",
                "referral_source")
LINK_COLUMNS = ("case_id", "same_as_case_id", "reason", "recorded_by_id", "recorded_at",
                "removed_at", "removed_by_id", "removal_reason")
REFERRAL_COLUMNS = ("id", "case_id", "service_id", "referring_agency_id",
                    "recipient_agency_id", "referred_by_id", "consent_id",
                    "consent_override_reason", "shared_fields", "needs", "state", "sent_at",
                    "respond_by", "answered_at", "ended_at", "external", "outcome")
ASSISTANCE_COLUMNS = ("referral_id", "service_type", "description", "delivered_on",
                      "delivered_by_id", "delivering_agency_id", "recorded_at")
DECISION_COLUMNS = ("case_id", "decision", "decided_on", "deciding_agency_id", "grounds",
                    "appeal", "decided_by_id", "recorded_at")
PERIOD_COLUMNS = ("case_id", "starts_on", "ends_on", "original_ends_on", "extended_on",
                  "extension_reason", "deciding_agency_id", "deciding_authority",
                  "decided_on", "recorded_by_id", "recorded_at")
PERMIT_COLUMNS = ("case_id", "permit_type", "status", "applied_on", "decided_on",
                  "deciding_agency_id", "deciding_authority", "expires_on", "renews_id",
                  "recorded_by_id", "recorded_at", "decision_recorded_by_id")
RETURN_COLUMNS = ("case_id", "destination_country", "voluntary", "risk_assessed_on",
                  "risk_assessed_by", "risk_level", "risk_summary", "no_assessment_reason",
                  "planned_return_on", "returned_on", "return_recorded_by_id",
                  "reintegration_follow_up", "follow_up_on", "deciding_agency_id",
                  "deciding_authority", "decided_on", "recorded_by_id", "recorded_at")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--first-year", type=int, default=2019,
                        help="first contacts from 1 January of this year")
    parser.add_argument("--today", type=date.fromisoformat, default=None,
                        help="the last day of the data (default: today)")
    return parser.parse_args()


def setup() -> None:
    os.environ.setdefault("OPENNRM_CLI", "1")  # as the `opennrm` commands: no secret key
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opennrm.settings")
    import django

    django.setup()


def tables() -> list[tuple]:
    """(model, columns) of every table the loader writes, in the order it writes them."""
    from opennrm.cases.models import Case, Person, SamePersonLink
    from opennrm.protection.models import ReflectionPeriod, ResidencePermit, ReturnPlan
    from opennrm.referrals.models import Assistance, Referral
    from opennrm.screening.models import IdentificationDecision

    return [(Person, PERSON_COLUMNS), (Case, CASE_COLUMNS), (SamePersonLink, LINK_COLUMNS),
            (Referral, REFERRAL_COLUMNS), (Assistance, ASSISTANCE_COLUMNS),
            (IdentificationDecision, DECISION_COLUMNS), (ReflectionPeriod, PERIOD_COLUMNS),
            (ResidencePermit, PERMIT_COLUMNS), (ReturnPlan, RETURN_COLUMNS)]


def check_columns(model, columns: tuple[str, ...]) -> None:
    """Refuse to load if a NOT NULL column of `model` is not written, or a name is wrong."""
    fields = {field.column: field for field in model._meta.concrete_fields}
    unknown = [column for column in columns if column not in fields]
    missing = [column for column, field in fields.items()
               if not field.null and not field.primary_key and column not in columns]
    if unknown or missing:
        raise SystemExit(f"{model._meta.db_table}: unknown columns {unknown}, "
                         f"NOT NULL columns not written {missing}")


# --- writing -------------------------------------------------------------------------------

class PostgresWriter:
    """COPY in the text format; psycopg turns dates, datetimes, UUIDs and booleans into text."""

    def __init__(self, connection):
        self.connection = connection

    @staticmethod
    def day(value: date | None):
        return value

    @staticmethod
    def moment(value: datetime | None):
        return value

    @staticmethod
    def uuid(value):
        return value

    def write(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        with self.connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)

    def finish(self, tables_with_ids: list[str]) -> None:
        with self.connection.cursor() as cursor:
            for table in tables_with_ids:
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT COALESCE(MAX(id), 1) FROM {table}))")
            cursor.execute("VACUUM ANALYZE")  # as autovacuum would, soon after a load


class SQLiteWriter:
    """executemany with the values Django's SQLite backend stores: ISO dates, UTC datetimes
    without offset, UUIDs as 32 hex digits, booleans as 0/1."""

    def __init__(self, connection):
        self.connection = connection
        # A page cache of 256 MB instead of 2 MB: the indexes of a million rows stay in it.
        connection.ensure_connection()
        connection.connection.execute("PRAGMA cache_size = -262144")

    @staticmethod
    def day(value: date | None):
        return value.isoformat() if value else None

    @staticmethod
    def moment(value: datetime | None):
        return value.isoformat(" ")[:19] if value else None  # all values are in UTC

    @staticmethod
    def uuid(value):
        return value.hex

    def write(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        marks = ", ".join("?" * len(columns))
        self.connection.connection.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def finish(self, tables_with_ids: list[str]) -> None:
        # AUTOINCREMENT keeps sqlite_sequence past explicit ids by itself.
        with self.connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


_JSON: dict[tuple, str] = {}


def as_json(values: list) -> str:
    """json.dumps of a short list of codes (the same few lists come back all the time)."""
    key = tuple(values)
    text = _JSON.get(key)
    if text is None:
        text = _JSON[key] = json.dumps(values)
    return text


# --- the data ------------------------------------------------------------------------------

class Loader:
    def __init__(self, writer, seed: int, first_day: date, today: date):
        from opennrm.cases.models import Person, new_global_id
        from opennrm.core import codelists
        from opennrm.protection.models import ReturnPlan
        from opennrm.referrals.models import Assistance
        from opennrm.screening.models import IdentificationDecision

        self.writer = writer
        self.rng = random.Random(seed)
        self.first_day, self.today = first_day, today
        self.span = (today - first_day).days + 1
        self.now = min(datetime.now(UTC),
                       datetime(today.year, today.month, today.day, 23, 59, tzinfo=UTC))
        self.new_uuid = new_global_id
        self.age_band = codelists.age_band
        self.aliases = encrypter(Person, "aliases")
        self.documents = encrypter(Person, "identity_documents")
        self.grounds = encrypter(IdentificationDecision, "grounds")
        self.description = encrypter(Assistance, "description")
        self.no_assessment = encrypter(ReturnPlan, "no_assessment_reason")
        self.agency, self.user, self.services = self.directory()
        # For each owner: the services of other agencies, weighted by how often caseworkers
        # ask for their kind.
        self.service_draw = {
            code: Weighted({service: TYPE_WEIGHTS[service[1]] for service in self.services
                            if service[2] != self.agency[code]})
            for code in self.agency}
        self.next_referral = 1
        self.counts: dict[str, int] = {}
        self.draw_seconds = self.write_seconds = 0.0  # drawing rows (Python), writing them

    def directory(self) -> tuple[dict, dict, list]:
        """Agencies, one caseworker each, providers and services (the ORM)."""
        from opennrm.accounts.models import Agency, Role, User
        from opennrm.services.models import Provider, Service

        agency, user, services = {}, {}, []
        for code, name, agency_type, _share in AGENCIES:
            created = Agency.objects.create(code=code, name=name, agency_type=agency_type,
                                            country="MD")
            agency[code] = created.pk
            user[code] = User.objects.create_user(f"{code}-caseworker", agency=created,
                                                  role=Role.CASEWORKER).pk
            if code in SERVICES:
                provider = Provider.objects.create(name=name, organisation_type=agency_type,
                                                   agency=created, country="MD")
                for service_type in SERVICES[code]:
                    service = Service.objects.create(
                        provider=provider, name=f"{name}: {service_type.replace('_', ' ')}",
                        service_type=service_type, country="MD",
                        response_days=RESPONSE_DAYS.get(service_type, 5))
                    services.append((service.pk, service_type, created.pk,
                                     service.response_days, code))
        return agency, user, services

    def randint(self, low: int, high: int) -> int:
        """random.randint without its argument checks: several times faster."""
        return low + int(self.rng.random() * (high - low + 1))

    def at(self, day: date) -> datetime:
        """A moment in working hours (8:00–17:00) on `day`, never later than now."""
        moment = datetime(day.year, day.month, day.day, 8, tzinfo=UTC) + timedelta(
            seconds=int(self.rng.random() * 32_400))
        return min(moment, self.now)

    def days_after(self, day: date, low: int, high: int) -> date | None:
        """A day `low`–`high` days after `day`, or None if it is after today."""
        later = day + timedelta(days=self.randint(low, high))
        return later if later <= self.today else None

    # --- persons and cases -------------------------------------------------------------

    def draw_person_and_episode(self) -> tuple[dict, dict]:
        rng = self.rng
        form = FORM_DRAW.draw(rng)
        forms = [form]
        if rng.random() < 0.05:
            second = FORM_DRAW.draw(rng)
            if second != form:
                forms.append(second)
        draw = rng.random()
        gender = ("transgender_or_other" if draw < 0.005 else "unknown" if draw < 0.015
                  else "female" if rng.random() < FEMALE_SHARE.get(form, 0.5) else "male")
        child = rng.random() < CHILD_SHARE.get(form, 0.12)
        age = self.randint(3, 17) if child else min(18 + int(rng.expovariate(1 / 11)), 75)
        uncertain = rng.random() < 0.02
        citizenship = CITIZENSHIP_DRAW.draw(rng)
        citizenships = [citizenship] if citizenship else []
        if citizenship == "MD" and rng.random() < 0.1:
            citizenships.append("RO")
        person = {"gender": gender, "age": age,
                  "uncertainty": ("possibly_child" if child else "adult") if uncertain else "",
                  "no_birth_year": rng.random() < 0.08 or (uncertain and rng.random() < 0.5),
                  "citizenships": citizenships,
                  "languages": [LANGUAGES.get(citizenship, "ru")] if citizenship else []}
        labour = form in LABOUR_FORMS
        if citizenship == "MD":
            countries = [(LABOUR_DRAW if labour else SEXUAL_DRAW).draw(rng)]
            if rng.random() < 0.1:
                other = (LABOUR_DRAW if labour else SEXUAL_DRAW).draw(rng)
                if other not in countries:
                    countries.append(other)
        else:
            countries = ["MD"] if rng.random() < 0.8 or not citizenship else [citizenship]
        if rng.random() < 0.03:
            countries = []
        means = []
        for _ in range(rng.choice((0, 1, 1, 2, 2, 2, 3, 3))):
            mean = MEANS_DRAW.draw(rng)
            if mean not in means:
                means.append(mean)
        episode = {
            "forms": [] if rng.random() < 0.01 else forms,
            "sector": SECTOR_DRAW.draw(rng) if labour and rng.random() < 0.95 else "",
            "countries": countries,
            "recruitment": citizenships[:1] if rng.random() < 0.8 else [],
            "means": means,
            "relation": RELATION_DRAW.draw(rng),
        }
        return person, episode

    def draw_case(self, case_id: int, original: dict | None = None) -> dict:
        """A case: a new person's, or (with `original`) the same person's registered again
        by another agency, up to six months later."""
        from opennrm.cases import age as case_age

        rng = self.rng
        if original is None:
            person, episode = self.draw_person_and_episode()
            first_contact = self.first_day + timedelta(days=rng.randrange(self.span))
            owner = AGENCY_DRAW.draw(rng)
            person["birth_year"] = (None if person["no_birth_year"]
                                    else first_contact.year - person["age"])
        else:
            person, episode = original["person"], original["episode"]
            first_contact = min(
                original["first_contact"] + timedelta(days=self.randint(0, 180)), self.today)
            owner = original["owner"]
            while owner == original["owner"]:
                owner = AGENCY_DRAW.draw(rng)
        # The age and the child flag as cases.services derives them (cases.age).
        facts = SimpleNamespace(birth_date="", birth_year=person["birth_year"],
                                age_uncertainty=person["uncertainty"])
        age = case_age.statistical_age(facts, first_contact)
        case = {"id": case_id, "person": person, "episode": episode, "owner": owner,
                "first_contact": first_contact,
                "registered_at": self.at(
                    min(first_contact + timedelta(days=self.randint(0, 2)), self.today)),
                "age_band": self.age_band(age) if age is not None else "",
                "age_at_first_contact": age,
                "is_child": case_age.may_be_child(facts, first_contact)}
        status = STATUS_DRAW.draw(rng)
        decided = None
        if status == "identified":
            decided = self.days_after(first_contact, 10, 200)
        elif status == "not_a_victim":
            decided = self.days_after(first_contact, 5, 90)
        if decided is None:
            status = "presumed"
        case["status"], case["decided"] = status, decided
        case["decided_by"] = (("coordination" if rng.random() < 0.7 else "police")
                              if decided else None)
        # Closed: non-victims mostly; victims more often the longer ago they came.
        years = (self.today - first_contact).days / 365.25
        closing = 0.8 if status == "not_a_victim" else min(0.75, 0.05 + 0.09 * years)
        closed = None
        if rng.random() < closing:
            start = decided if status == "not_a_victim" else first_contact
            closed = self.days_after(start, 0 if status == "not_a_victim" else 30,
                                     30 if status == "not_a_victim" else 900)
        if closed:
            reason = "not_a_victim" if status == "not_a_victim" else CLOSURE_DRAW.draw(rng)
            case["state"] = "closed_referred" if reason == "referred_elsewhere" else "closed"
            case["closure_reason"], case["closed_at"] = reason, self.at(closed)
        else:
            case["state"] = "active" if rng.random() < 0.75 else "follow_up"
            case["closure_reason"], case["closed_at"] = "", None
        return case

    def person_row(self, person_id: int, case: dict, statistical: int | None) -> tuple:
        w, person = self.writer, case["person"]
        return (person_id, w.uuid(self.new_uuid()), "", "", self.aliases([]), "",
                self.documents([]), "", "", "", person["gender"], person["birth_year"],
                person["uncertainty"], as_json(person["citizenships"]),
                as_json(person["languages"]), w.moment(case["registered_at"]), statistical)

    def case_row(self, case: dict) -> tuple:
        w, episode, owner = self.writer, case["episode"], case["owner"]
        decided_by = case["decided_by"]
        updated = case["closed_at"] or case["registered_at"]
        return (case["id"], w.uuid(self.new_uuid()),
                f"MD-{case['first_contact'].year % 100:02d}-{case['id']:08d}", case["id"],
                self.agency[owner], self.user[owner], w.day(case["first_contact"]),
                w.moment(case["registered_at"]), case["age_band"],
                case["age_at_first_contact"], case["is_child"],
                case["status"], w.day(case["decided"]),
                self.agency[decided_by] if decided_by else None,
                self.user[decided_by] if decided_by else None,
                as_json(episode["forms"]), episode["sector"],
                as_json(episode["recruitment"]), "[]", as_json(episode["countries"]),
                None, None, as_json(episode["means"]), episode["relation"], "",
                case["state"], case["closure_reason"], w.moment(case["closed_at"]),
                w.moment(updated), "", "")

    # --- what happened to a case ---------------------------------------------------------

    def referrals(self, case: dict, rows: dict) -> None:
        rng, w = self.rng, self.writer
        owner = case["owner"]
        day = case["first_contact"]
        for number in range(COUNT_DRAW.draw(rng)):
            day += timedelta(days=int(rng.expovariate(1 / (7 if number == 0 else 30))))
            if day > self.today:
                return
            service_id, service_type, recipient, days, provider = \
                self.service_draw[owner].draw(rng)
            sent_at = max(self.at(day), case["registered_at"] + timedelta(hours=1))
            sent_at = min(sent_at, self.now)
            state = STATE_DRAW.draw(rng)
            if state in ("sent", "accepted") and (self.today - day).days > 120:
                state = "completed"
            answered = None
            if state != "sent" and not (state == "stopped" and rng.random() < 0.5):
                answered = min(sent_at + timedelta(days=self.randint(0, days + 2),
                                                   hours=self.randint(1, 6)), self.now)
            ended = None
            if state not in ("sent", "accepted"):
                ended = min((answered or sent_at)
                            + timedelta(days=self.randint(0, 120 if state == "completed"
                                                         else 60), hours=self.randint(1, 6)),
                            self.now)
            referral_id = self.next_referral
            self.next_referral += 1
            rows["referrals_referral"].append((
                referral_id, case["id"], service_id, self.agency[owner], recipient,
                self.user[owner], None, "", '["gender", "age_band", "languages"]', "",
                state, w.moment(sent_at), w.day(day + timedelta(days=days)),
                w.moment(answered), w.moment(ended), False, ""))
            given = {"completed": (1, 3), "accepted": (0, 2), "withdrawn": (0, 1)}.get(state)
            if given and answered:
                start = answered.date()
                span = max(((ended or self.now).date() - start).days, 0)
                for _ in range(self.randint(*given)):
                    delivered = start + timedelta(days=self.randint(0, span))
                    rows["referrals_assistance"].append((
                        referral_id, service_type, self.description(rng.choice(ASSISTANCE)),
                        w.day(delivered), self.user[provider], recipient,
                        w.moment(max(self.at(delivered), answered))))

    def protection(self, case: dict, rows: dict) -> None:
        """Identification decision, reflection period, residence permit, return."""
        rng, w = self.rng, self.writer
        owner, first_contact = case["owner"], case["first_contact"]
        agency, user = self.agency[owner], self.user[owner]
        decided = case["decided"]
        if decided and (case["status"] == "identified" or rng.random() < 0.6):
            decision = "identified" if case["status"] == "identified" else "not_identified"
            by = case["decided_by"]
            rows["screening_identificationdecision"].append((
                case["id"], decision, w.day(decided), self.agency[by], self.grounds(GROUNDS),
                "", self.user[by], w.moment(self.at(decided))))
        if case["status"] == "not_a_victim":
            return
        period = None
        if rng.random() < 0.5:
            starts = min(first_contact + timedelta(days=self.randint(0, 7)), self.today)
            original_end = starts + timedelta(days=30)
            extended = self.days_after(starts, 25, 25) if rng.random() < 0.15 else None
            period = (case["id"], w.day(starts),
                      w.day(starts + timedelta(days=60) if extended else original_end),
                      w.day(original_end), w.day(extended),
                      "recovery_needed" if extended else "", agency, "", w.day(starts), user,
                      w.moment(self.at(starts)))
            rows["protection_reflectionperiod"].append(period)
        citizenships = case["person"]["citizenships"]
        foreign = bool(citizenships) and citizenships[0] != "MD"
        if foreign and rng.random() < (0.4 if period else 0.1):
            applied = self.days_after(first_contact, 20, 40)
            if applied:
                decided_on = self.days_after(applied, 5, 60)
                status, expires = "applied", None
                if decided_on and rng.random() < 0.15:
                    status = "refused"
                elif decided_on:
                    expires = decided_on + timedelta(days=rng.choice((180, 365)))
                    status = "granted" if expires >= self.today else "expired"
                rows["protection_residencepermit"].append((
                    case["id"], PERMIT_DRAW.draw(rng), status, w.day(applied),
                    w.day(decided_on), None, MIGRATION_OFFICE if decided_on else "",
                    w.day(expires), None, user, w.moment(self.at(applied)),
                    user if decided_on else None))
        if rng.random() < 0.03:
            decided_on = self.days_after(first_contact, 10, 90)
            if decided_on:
                # A child's return needs a risk assessment; an adult's without one, a reason.
                assessed = case["is_child"] or rng.random() < 0.75
                planned = decided_on + timedelta(days=self.randint(7, 30))
                returned = (self.days_after(planned, 0, 10) if rng.random() < 0.85
                            else None)
                rows["protection_returnplan"].append((
                    case["id"], citizenships[0] if citizenships else "MD",
                    rng.random() < 0.95,
                    w.day(decided_on - timedelta(days=self.randint(0, 5))) if assessed
                    else None,
                    "IOM country office" if assessed else "",
                    rng.choice(("low", "medium")) if assessed else "", "",
                    "" if assessed else self.no_assessment(NO_ASSESSMENT), w.day(planned),
                    w.day(returned), user if returned else None, "", None, agency, "",
                    w.day(decided_on), user, w.moment(self.at(decided_on))))

    # --- chunks --------------------------------------------------------------------------

    def draw_chunk(self, first: int, count: int) -> dict[str, list[tuple]]:
        rows = {model._meta.db_table: [] for model, _columns in tables()}
        case_id, last = first, first + count - 1
        while case_id <= last:
            case = self.draw_case(case_id)
            cases = [case]
            if case_id < last and self.rng.random() < TWIN_SHARE:
                cases.append(self.draw_case(case_id + 1, original=case))
            for each in cases:
                # Linked persons both count as the smaller person id (cases.same_person).
                rows["cases_person"].append(self.person_row(
                    each["id"], each, case_id if len(cases) > 1 else None))
                rows["cases_case"].append(self.case_row(each))
                self.referrals(each, rows)
                self.protection(each, rows)
            if len(cases) > 1:
                twin = cases[1]
                rows["cases_samepersonlink"].append((
                    twin["id"], case_id, "", self.user[twin["owner"]],
                    self.writer.moment(min(twin["registered_at"] + timedelta(days=1),
                                           self.now)), None, None, ""))
            case_id += len(cases)
        return rows

    def load(self, cases: int) -> None:
        from django.db import transaction

        for first in range(1, cases + 1, CHUNK):
            began = time.perf_counter()
            rows = self.draw_chunk(first, min(CHUNK, cases - first + 1))
            drawn = time.perf_counter()
            with transaction.atomic():
                for model, columns in tables():
                    table = model._meta.db_table
                    self.writer.write(table, columns, rows[table])
                    self.counts[table] = self.counts.get(table, 0) + len(rows[table])
            self.draw_seconds += drawn - began
            self.write_seconds += time.perf_counter() - drawn
            print(f"  {min(first + CHUNK - 1, cases)} cases", file=sys.stderr, flush=True)


def main() -> None:
    args = parse_args()
    began = time.perf_counter()
    setup()
    from django.db import connection
    from django.utils import timezone

    from opennrm.accounts.models import Agency
    from opennrm.cases.models import Case

    if Case.objects.exists() or Agency.objects.exists():
        raise SystemExit("the database is not empty: load_statistics.py fills an empty one")
    for model, columns in tables():
        check_columns(model, columns)
    writer = (PostgresWriter if connection.vendor == "postgresql" else SQLiteWriter)(connection)
    today = args.today or timezone.now().date()
    loader = Loader(writer, args.seed, date(args.first_year, 1, 1), today)
    loader.load(args.cases)
    loaded = time.perf_counter()
    writer.finish(["cases_person", "cases_case", "referrals_referral"])
    finished = time.perf_counter()
    print(json.dumps({"vendor": connection.vendor, "cases": args.cases,
                      "today": today.isoformat(), "rows": loader.counts,
                      "draw_seconds": round(loader.draw_seconds, 2),
                      "write_seconds": round(loader.write_seconds, 2),
                      "load_seconds": round(loaded - began, 2),
                      "analyze_seconds": round(finished - loaded, 2),
                      "seconds": round(finished - began, 2)}))


if __name__ == "__main__":
    main()
