"""Benchmark the person search (issue 17): recall in the top five, and its time at 100,000
persons.

Generates persons with the names of the region (Faker's Ukrainian, Russian, Romanian,
Bulgarian, Polish, Czech, Slovak, Croatian, Hungarian, Turkish, German, Vietnamese and
Nigerian names; a quarter of the Ukrainian and Russian ones registered in the Latin spelling
of their passport, one in ten with only an estimated birth year), registers them all to one
agency through `services.register_cases` (validated, encrypted, indexed and audited, as an
import would) in a fresh database, then searches for a sample of them as a caseworker would
type them: in another transliteration, in Cyrillic, without diacritics, with one typo, with
day and month swapped, with the year only, by the family name alone. Reports the share of
searches that put the person in the top five, per kind of variant and overall (target
>= 0.95), and the time of a search: the service alone, and the whole web page in-process.
Writes the Markdown report to benchmarks/results/person-search-latest.md and prints it.

    .venv/bin/python benchmarks/bench_person_search.py --persons 100000
    .venv/bin/python benchmarks/bench_person_search.py --quick     # a smoke run: 3,000 persons
"""

import os
import random
import re
import secrets
import statistics
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import harness

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RECALL_TARGET = 0.95
TOP = 5
PAGE_TARGET_MS = 350

# Where the persons come from (Faker locale, share). Victims identified in the region.
LOCALES = (("uk_UA", 0.25), ("ru_RU", 0.15), ("ro_RO", 0.20), ("bg_BG", 0.04),
           ("pl_PL", 0.04), ("cs_CZ", 0.03), ("sk_SK", 0.02), ("hr_HR", 0.02),
           ("hu_HU", 0.03), ("tr_TR", 0.03), ("de_DE", 0.02), ("vi_VN", 0.05),
           ("en_NG", 0.12))
CYRILLIC_LANGUAGES = {"uk_UA": "uk", "ru_RU": "ru"}
SCENARIOS = ("transliteration", "cyrillic", "diacritics", "typo", "swapped", "year_only",
             "transliteration_year_only", "family_name_only", "estimated_year")
# Two variants at once, with little to go on: reported, outside the target's share.
HARDER = ("typo_year_only", "given_name_year_only")
SCENARIO_TITLES = {
    "transliteration": "registered in Cyrillic, typed in a Latin transliteration",
    "cyrillic": "registered in the passport's Latin spelling, typed in Cyrillic",
    "diacritics": "registered with diacritics, typed without",
    "typo": "one typo (a letter left out, added, changed or two swapped)",
    "swapped": "birth date with day and month swapped",
    "year_only": "birth year only",
    "transliteration_year_only": "Latin transliteration of a Cyrillic name, birth year only",
    "family_name_only": "the family name alone, with the birth date",
    "estimated_year": "registered with an estimated birth year, searched with a full date",
    "typo_year_only": "one typo and the birth year only",
    "given_name_year_only": "the given name alone, with the birth year",
}


def parse_args():
    parser = harness.parser(__doc__)
    parser.add_argument("--persons", type=harness.positive, default=100_000)
    parser.add_argument("--queries", type=harness.positive, default=900,
                        help="searches, spread evenly over the kinds of variant")
    parser.add_argument("--pages", type=int, default=100,
                        help="searches also timed as a whole web page (POST /cases/find/)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 3,000 persons, 180 searches, 20 pages")
    parser.add_argument("--database-url", default="",
                        help="PostgreSQL database to drop and recreate (default: a SQLite "
                             "file in the results directory)")
    parser.add_argument("--seed", type=int, default=harness.SEED)
    parser.add_argument("--reuse", action="store_true",
                        help="keep the database and key ring of the previous run with the "
                             "same --persons and --seed")
    parser.add_argument("--results-dir", type=Path, default=harness.RESULTS / "person-search")
    parser.add_argument("--output", type=Path,
                        default=harness.RESULTS / "person-search-latest.md")
    args = parser.parse_args()
    if args.quick:
        args.persons, args.queries = 3_000, 180
        args.pages = min(args.pages, 20)
    return args


# --- the persons -------------------------------------------------------------------------

@dataclass
class Person:
    locale: str
    given_name: str  # as registered
    family_name: str
    birth_date: date | None
    birth_year: int
    gender: str
    native: tuple[str, str] = ()  # the Cyrillic original of a name registered in Latin
    case_number: str = ""
    person_id: int = 0


def _faker(locale: str, seed: int):
    from faker import Faker

    faker = Faker(locale)
    faker.seed_instance(seed)
    return faker


def _name(faker, female: bool) -> tuple[str, str]:
    given = faker.first_name_female() if female else faker.first_name_male()
    try:
        family = faker.last_name_female() if female else faker.last_name_male()
    except AttributeError:
        family = faker.last_name()
    return given, family


def generate(count: int, seed: int) -> list[Person]:
    import translitua

    rng = random.Random(seed)
    fakers = {locale: _faker(locale, seed + index) for index, (locale, _share)
              in enumerate(LOCALES)}
    locales = [locale for locale, _share in LOCALES]
    weights = [share for _locale, share in LOCALES]
    passports = {"uk": translitua.UkrainianKMU, "ru": translitua.RussianInternationalPassport}
    first, span = date(1965, 1, 1), (date(2010, 12, 31) - date(1965, 1, 1)).days
    persons = []
    for _ in range(count):
        locale = rng.choices(locales, weights)[0]
        female = rng.random() < 0.7
        given, family = _name(fakers[locale], female)
        born = first + timedelta(days=rng.randrange(span))
        person = Person(locale, given, family, born, born.year, "female" if female else "male")
        if rng.random() < 0.1:
            person.birth_date = None  # only an estimated year is known
        language = CYRILLIC_LANGUAGES.get(locale)
        if language and rng.random() < 0.25:
            scheme = passports[language]
            person.native = (given, family)
            person.given_name = translitua.translit(given, scheme)
            person.family_name = translitua.translit(family, scheme)
        persons.append(person)
    return persons


# --- the searches ------------------------------------------------------------------------

def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word + word[-1]
    position = rng.randrange(1, len(word) - 1)
    letters = sorted({char.lower() for char in word if char.isalpha()})
    kind = rng.choice(("delete", "insert", "replace", "transpose"))
    if kind == "delete":
        return word[:position] + word[position + 1:]
    if kind == "insert":
        return word[:position] + rng.choice(letters) + word[position:]
    if kind == "replace":
        others = [char for char in letters if char != word[position].lower()] or letters
        return word[:position] + rng.choice(others) + word[position + 1:]
    return word[:position - 1] + word[position] + word[position - 1] + word[position + 1:]


def _without_marks(text: str) -> str:
    return "".join(char for char in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(char)).replace("ł", "l").replace("Ł", "L")


def _query_schemes():
    import translitua

    return {
        "uk": (translitua.UkrainianKMU, translitua.UkrainianPassport2007,
               translitua.UkrainianBGN, translitua.UkrainianSimple, translitua.UkrainianBritish,
               translitua.UkrainianGerman, translitua.UkrainianFrench, translitua.UkrainianISO9,
               translitua.UkrainianALALC, translitua.UkrainianUNGEGN),
        "ru": (translitua.RussianInternationalPassport,
               translitua.RussianInternationalPassport1997, translitua.RussianICAO,
               translitua.RussianGOST2006, translitua.RussianSimple,
               translitua.RussianDriverLicense, translitua.RussianALALC,
               translitua.RussianISO9SystemA),
    }


@dataclass
class Search:
    scenario: str
    person: Person
    name: str
    birth_date: date | None = None
    birth_year: int | None = None
    rank: int | None = None  # 1-based place of the person in the results, None: not found
    ms: float = 0.0
    results: list = field(default_factory=list)


def _eligible(scenario: str, person: Person) -> bool:
    cyrillic = person.locale in CYRILLIC_LANGUAGES
    if scenario in ("transliteration", "transliteration_year_only"):
        return cyrillic and not person.native and person.birth_date is not None
    if scenario == "cyrillic":
        return bool(person.native) and person.birth_date is not None
    if scenario == "diacritics":
        name = person.given_name + person.family_name
        return (not cyrillic and person.birth_date is not None
                and _without_marks(name) != name and name.isascii() is False
                and all("LATIN" in unicodedata.name(c, "LATIN") for c in name if c.isalpha()))
    if scenario == "swapped":
        born = person.birth_date
        return born is not None and born.day <= 12 and born.day != born.month
    if scenario == "estimated_year":
        return person.birth_date is None
    return person.birth_date is not None


def searches(persons: list[Person], count: int, seed: int) -> list[Search]:
    import translitua

    rng = random.Random(seed + 1)
    schemes = _query_schemes()
    per_scenario = max(1, count // len(SCENARIOS))
    found = []
    for scenario in SCENARIOS + HARDER:
        pool = [person for person in persons if _eligible(scenario, person)]
        for person in rng.sample(pool, min(per_scenario, len(pool))):
            name = f"{person.given_name} {person.family_name}"
            search = Search(scenario, person, name, birth_date=person.birth_date)
            if scenario in ("transliteration", "transliteration_year_only"):
                scheme = rng.choice(schemes[CYRILLIC_LANGUAGES[person.locale]])
                search.name = translitua.translit(name, scheme)
            elif scenario == "cyrillic":
                search.name = " ".join(person.native)
            elif scenario == "diacritics":
                search.name = _without_marks(name)
            elif scenario in ("typo", "typo_year_only"):
                words = [person.given_name, person.family_name]
                which = rng.randrange(2)
                words[which] = _typo(words[which], rng)
                search.name = " ".join(words)
            elif scenario == "swapped":
                born = person.birth_date
                search.birth_date = born.replace(month=born.day, day=born.month)
            elif scenario == "family_name_only":
                search.name = person.family_name
            elif scenario == "given_name_year_only":
                search.name = person.given_name
            elif scenario == "estimated_year":
                search.birth_date = date(person.birth_year, rng.randint(1, 12),
                                         rng.randint(1, 28))
            if scenario in ("year_only", "transliteration_year_only", "typo_year_only",
                            "given_name_year_only"):
                search.birth_date, search.birth_year = None, person.birth_year
            found.append(search)
    return found


# --- the node ----------------------------------------------------------------------------

def setup_django(args) -> None:
    args.results_dir.mkdir(parents=True, exist_ok=True)
    database = args.database_url or (
        f"sqlite:///{args.results_dir / f'persons-{args.persons}-{args.seed}.sqlite3'}")
    keyring = args.results_dir / f"keyring-{args.persons}-{args.seed}.json"
    if not args.reuse:
        if args.database_url:
            from bench_node import recreate_database

            recreate_database(args.database_url)
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(database.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        keyring.unlink(missing_ok=True)
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "opennrm.settings",
        "DATABASE_URL": database,
        "OPENNRM_KEYRING": str(keyring),
        "OPENNRM_VAR_DIR": str(args.results_dir / "var"),
        "OPENNRM_SECRET_KEY": secrets.token_urlsafe(50),
        "OPENNRM_ALLOWED_HOSTS": "127.0.0.1",
        "OPENNRM_SSL_REDIRECT": "0",
        "OPENNRM_DEBUG": "0",
    })
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def caseworker():
    from opennrm.accounts.models import Agency, Role, User

    agency, _created = Agency.objects.get_or_create(
        code="bench-ngo", defaults={"name": "Bench NGO", "agency_type": "ngo", "country": "MD"})
    user = User.objects.filter(username="bench-caseworker").first()
    if user is None:
        user = User.objects.create_user(username="bench-caseworker", password=None,
                                        role=Role.CASEWORKER, agency=agency)
    return user


def load(persons: list[Person], user, batch: int = 1000) -> float:
    """Register every person (a case each); returns the seconds it took."""
    from opennrm.cases.services import Registration, register_cases

    began = time.perf_counter()
    for start in range(0, len(persons), batch):
        chunk = persons[start:start + batch]
        cases = register_cases(user, [Registration({
            "given_name": person.given_name, "family_name": person.family_name,
            "birth_date": person.birth_date,
            "birth_year": None if person.birth_date else person.birth_year,
            "gender": person.gender, "first_contact_on": date(2026, 3, 2),
        }) for person in chunk], channel="bench")
        for person, case in zip(chunk, cases, strict=True):
            person.case_number, person.person_id = case.case_number, case.person_id
        print(f"  registered {start + len(chunk):,} of {len(persons):,}", end="\r",
              flush=True)
    print()
    return time.perf_counter() - began


def analyse() -> None:
    """PostgreSQL: VACUUM ANALYZE after the load, as autovacuum would soon (the other
    benchmarks do the same). SQLite is left as a node has it, without statistics."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def attach_ids(persons: list[Person]) -> None:
    """After --reuse: the person ids, in the order they were registered."""
    from opennrm.cases.models import Case

    rows = list(Case.objects.order_by("pk").values_list("case_number", "person_id"))
    if len(rows) != len(persons):
        raise SystemExit(f"the database holds {len(rows)} cases, not {len(persons)}: "
                         "run without --reuse")
    for person, (number, person_id) in zip(persons, rows, strict=True):
        person.case_number, person.person_id = number, person_id


def run_searches(found: list[Search], user) -> None:
    from opennrm.cases.person_search import PersonQuery, search_persons

    for search in found:
        query = PersonQuery(name=search.name, birth_date=search.birth_date,
                            birth_year=search.birth_year)
        began = time.perf_counter()
        matches = search_persons(user, query, limit=TOP, channel="bench")
        search.ms = (time.perf_counter() - began) * 1000
        ids = [match.person.pk for match in matches]
        search.rank = ids.index(search.person.person_id) + 1 \
            if search.person.person_id in ids else None
        search.results = [(match.score, match.explanation) for match in matches]


def time_pages(found: list[Search], user, count: int) -> list[float]:
    """The whole search page in-process (Django's test client: middleware, form, search,
    template), for the first `count` searches."""
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    client.get("/cases/find/")  # the first request loads the templates: not timed
    times = []
    for search in found[:count]:
        data = {"name": search.name}
        if search.birth_date:
            data["birth_date"] = search.birth_date.isoformat()
        elif search.birth_year:
            data["birth_year"] = str(search.birth_year)
        began = time.perf_counter()
        response = client.post("/cases/find/", data)
        times.append((time.perf_counter() - began) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"/cases/find/ answered {response.status_code}")
    return times


def index_size() -> tuple[int, int]:
    from opennrm.cases.models import NameToken, Person

    return NameToken.objects.count(), Person.objects.count()


# --- the report --------------------------------------------------------------------------

def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else 0


def _row(title: str, searches: list[Search], bold: bool = False) -> str:
    top = sum(search.rank is not None for search in searches)
    first = sum(search.rank == 1 for search in searches)
    share = f"{top / len(searches):.3f}" if searches else "—"
    share = f"**{share}**" if bold else share
    first = f"{first / len(searches):.3f}" if searches else "—"
    return f"| {title} | {len(searches)} | {top} | {share} | {first} |"


def report(args, found: list[Search], load_seconds: float | None, pages: list[float],
           rows: int, persons: int) -> str:
    from django.db import connection

    lines = [
        f"# Person search: recall and time ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
        "",
        f"{persons:,} persons of one agency, {connection.vendor}; {len(found)} searches, "
        f"top {TOP}; seed {args.seed}. Index: {rows:,} rows ({rows / max(persons, 1):.1f} "
        "a person)." + (f" Registering them took {load_seconds:.0f} s." if load_seconds else ""),
        "",
        "| Variant | Searches | In the top 5 | Share | First |",
        "|---|---:|---:|---:|---:|",
    ]
    for scenario in SCENARIOS:
        lines.append(_row(SCENARIO_TITLES[scenario],
                          [search for search in found if search.scenario == scenario]))
    target = [search for search in found if search.scenario in SCENARIOS]
    lines.append(_row("**all variants above** (the target)", target, bold=True))
    for scenario in HARDER:
        lines.append(_row(f"harder: {SCENARIO_TITLES[scenario]}",
                          [search for search in found if search.scenario == scenario]))
    share = sum(search.rank is not None for search in target) / max(len(target), 1)
    times = [search.ms for search in found]
    lines += [
        "",
        "| Time of a search | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|",
        f"| service (`search_persons`, audit entries included) | {statistics.median(times):.1f} | "
        f"{_percentile(times, 0.95):.1f} | {max(times):.1f} |",
    ]
    if pages:
        lines.append(f"| whole page `POST /cases/find/` in-process ({len(pages)}) | "
                     f"{statistics.median(pages):.1f} | {_percentile(pages, 0.95):.1f} | "
                     f"{max(pages):.1f} |")
    verdict = "met" if share >= RECALL_TARGET else "NOT met"
    lines += ["", f"Recall target (share in the top {TOP} >= {RECALL_TARGET}): **{verdict}**."]
    if pages:
        verdict = "met" if _percentile(pages, 0.95) <= PAGE_TARGET_MS else "NOT met"
        lines.append(f"Page target (p95 <= {PAGE_TARGET_MS} ms): **{verdict}**.")
    missed = [search for search in target if search.rank is None][:15]
    if missed:
        lines += ["", "Missed (first 15; names are generated):", ""]
        for search in missed:
            person = search.person
            typed = re.sub(r"\s+", " ", search.name)
            when = search.birth_date or search.birth_year or "no date"
            lines.append(f"* {search.scenario}: typed `{typed}` ({when}); registered "
                         f"`{person.given_name} {person.family_name}` "
                         f"({person.birth_date or person.birth_year}); best: "
                         f"{search.results[0] if search.results else 'nothing'}")
    return "\n".join(lines) + "\n"


def main() -> None:
    args = parse_args()
    setup_django(args)
    persons = generate(args.persons, args.seed)
    user = caseworker()
    load_seconds = None
    if args.reuse and index_size()[1]:
        attach_ids(persons)
    else:
        print(f"registering {args.persons:,} persons")
        load_seconds = load(persons, user)
        print(f"registered in {load_seconds:.0f} s")
        analyse()
    found = searches(persons, args.queries, args.seed)
    print(f"running {len(found)} searches")
    run_searches(found, user)
    pages = time_pages(found, user, args.pages) if args.pages > 0 else []
    rows, count = index_size()
    text = report(args, found, load_seconds, pages, rows, count)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
