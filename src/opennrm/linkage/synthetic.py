"""A generated register of persons with known truth, for the linkage benchmark and tests.

Persons come from Moldova, Ukraine, Russia, Belarus, Romania and Türkiye, with the names of
their country (Faker's ro_RO, uk_UA, ru_RU and tr_TR lists, drawn once into pools; a fifth of
Moldovans carry Russian names). Faker has no Belarusian locale: Belarusians get Russian names
rewritten with Belarusian letters (і for и, ў after a vowel, шч for щ, дз/ц before a soft
vowel, final -ий → -і, -ов → -оў), which is how most of their names differ on paper.

A share of the persons (`duplicated`) is registered two to four times, each time by a
different agency, and every registration is typed on its own, as agencies do:

* a Cyrillic name in Cyrillic, or in the Latin spelling of one of several schemes (Ukrainian
  KMU 2010, passport 2007, BGN, German, "simple" with j; Russian ICAO 2013, passport 1997,
  driving licence, "simple", the Romanian spelling of Moldovan registries (Serghei, Jucov);
  the Belarusian passport's; anyascii's reading), a Belarusian name in its Russian form;
* a Romanian name with its comma diacritics (ș ț), without them, or with cedillas (ş ţ); a
  Turkish name without its letters (ş ğ ı İ ç ö ü);
* one typo (a letter left out, added, changed, or two swapped) in one name;
* the birth date as typed: mostly YYYY-MM-DD, some DD.MM.YYYY, some the year only, some
  missing, some with day and month swapped, some a day off;
* fields left out, another phone number, another identity document, the second citizenship
  of a Moldovan who also holds a Romanian passport.

Hard negatives, which a model must keep apart: households (`households`) whose members share
the family name (in its feminine form where the language has one), address and phone, and
often the place of birth; and twins (`twins`) who also share the birth date but not the
given name.

Every row carries the truth beside the identifiers: `person_id` (rows with the same value are
the same person), `household_id` (persons of one household or twin pair) and `variants`
(what was done to this record, separated by ";"). Give a model `IDENTIFIER_COLUMNS` only.

Generation is deterministic for a seed (one `random.Random`, pools drawn once from a seeded
Faker, a fixed reference date) and fast: a million records in well under a minute.
"""

import csv
import random
from bisect import bisect
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from itertools import accumulate
from pathlib import Path

import translitua
from anyascii import anyascii

IDENTIFIER_COLUMNS = ("given_name", "family_name", "birth_date", "sex", "citizenship",
                      "place_of_birth", "address", "phone", "document_number")
TRUTH_COLUMNS = ("person_id", "household_id", "variants")
COLUMNS = ("record_id", *TRUTH_COLUMNS, *IDENTIFIER_COLUMNS)

# The share of persons or records each variant touches (see the module's docstring).
RATES = {
    "duplicated": 0.15,         # persons registered 2-4 times
    "households": 0.10,         # persons living with another generated person
    "twins": 0.01,              # persons who have a twin
    "latin": 0.45,              # records of a Cyrillic name written in Latin letters
    "russian_form": 0.30,       # Cyrillic records of a Belarusian name in its Russian form
    "no_diacritics": 0.25,      # Romanian and Turkish records typed without diacritics
    "cedilla": 0.15,            # Romanian records with ş ţ instead of ș ț
    "upper": 0.04,              # Latin records in capitals, as in a passport
    "typo": 0.08,               # records with one typo in one name
    "format_dmy": 0.15,         # birth dates typed DD.MM.YYYY
    "year_only": 0.05,          # birth dates known by the year only
    "missing_date": 0.04,       # birth dates left out
    "swapped_date": 0.03,       # day and month swapped (where both are 12 or less)
    "off_by_one_day": 0.03,     # a day off
    "missing_given_name": 0.01,
    "missing_sex": 0.03,
    "missing_citizenship": 0.05,
    "dual_citizenship": 0.25,   # Moldovans who also hold a Romanian passport
    "other_citizenship": 0.30,  # their records that name the Romanian one
    "place_of_birth": 0.70,     # records that give the place of birth
    "address": 0.50,            # records that give the address
    "phone": 0.60,              # persons with a phone
    "phone_recorded": 0.70,     # their records that give it
    "phone_changed": 0.10,      # records with another number of the same person
    "document": 0.55,           # persons with an identity document
    "document_recorded": 0.60,  # their records that give it
    "document_other": 0.10,     # records with another document of the same person
    "document_spaced": 0.10,    # document numbers typed with a space
}
REGISTRATIONS = ((2, 0.7), (3, 0.2), (4, 0.1))  # how often a duplicated person is registered
HOUSEHOLD_SIZES = ((2, 0.5), (3, 0.3), (4, 0.2))
REFERENCE = date(2026, 1, 1)  # "today" of the register: a fixed date keeps it deterministic
AGENCIES = ("police", "ngo", "shelter", "border", "labour", "social", "health", "iom",
            "prosecution", "hotline")

# --- names ---------------------------------------------------------------------------------

# Faker's ro_RO and tr_TR lists have few family names; these are among the most common.
RO_FAMILY_NAMES = (
    "Popescu", "Ionescu", "Popa", "Pop", "Radu", "Dumitru", "Stan", "Stoica", "Gheorghe",
    "Matei", "Ciobanu", "Rusu", "Munteanu", "Constantin", "Mocanu", "Ene", "Lungu", "Marin",
    "Iordache", "Cristea", "Toma", "Ștefan", "Barbu", "Florea", "Dinu", "Sandu", "Moldovan",
    "Ungureanu", "Năstase", "Tănase", "Dobre", "Vasile", "Mihai", "Diaconu", "Enache", "Oprea",
    "Manole", "Țăranu", "Șerban", "Căpățână", "Brânzei", "Pârvu", "Mureșan", "Crăciun",
    "Neagu", "Bălan", "Niță", "Preda", "Ceban", "Țurcanu", "Sârbu", "Cojocaru", "Moraru",
    "Roșca", "Bivol", "Guțu", "Melnic", "Botnari", "Cebotari", "Grosu", "Rotari", "Pascari",
    "Ursu", "Vrabie", "Căldare", "Țâmbalari", "Lupașcu", "Cușnir", "Bejenari", "Ștefăneț",
    "Bîrcă", "Țurcan", "Gîrlea", "Plămădeală", "Răileanu", "Bostan", "Cozma", "Istrati")
TR_FAMILY_NAMES = (
    "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Yıldırım", "Öztürk", "Aydın",
    "Özdemir", "Arslan", "Doğan", "Kılıç", "Aslan", "Çetin", "Kara", "Koç", "Kurt", "Özkan",
    "Şimşek", "Polat", "Özcan", "Korkmaz", "Çakır", "Erdoğan", "Yavuz", "Can", "Acar", "Şen",
    "Aktaş", "Güler", "Yalçın", "Güneş", "Bozkurt", "Bulut", "Keskin", "Ünal", "Turan", "Gül",
    "Özer", "Işık", "Kaplan", "Avcı", "Sarı", "Tekin", "Taş", "Köse", "Yüksel", "Ateş",
    "Aksoy", "Ağaoğlu", "Karagöz", "Uğurlu", "Çiftçi", "Dağdeviren", "Gündoğdu")

# Russian, Ukrainian and Belarusian family names with a feminine form (Иванов / Иванова).
FEMININE_ENDINGS = (("ський", "ська"), ("цький", "цька"), ("ский", "ская"), ("цкий", "цкая"),
                    ("ой", "ая"), ("ов", "ова"), ("ев", "ева"), ("ёв", "ёва"), ("ин", "ина"),
                    ("ын", "ына"), ("ін", "іна"), ("їн", "їна"),
                    ("скі", "ская"), ("цкі", "цкая"), ("оў", "ова"), ("еў", "ева"))


def feminine(family_name: str) -> str:
    """The feminine form of a Russian, Ukrainian or Belarusian family name (others do not
    change)."""
    for ending, form in FEMININE_ENDINGS:
        if family_name.endswith(ending):
            return family_name[: -len(ending)] + form
    return family_name


_VOWELS = set("аеёиоуыэюяіАЕЁИОУЫЭЮЯІ")
_SOFT = set("еёюяіь")


def belarusian(russian: str) -> str:
    """A Russian name rewritten with Belarusian letters (an approximation; see the module)."""
    word = russian
    for ending, form in (("ий", "і"), ("ов", "оў"), ("ев", "еў")):
        if word.endswith(ending) and len(word) > 4:
            word = word[: -len(ending)] + form
    word = word.replace("щ", "шч").replace("Щ", "Шч").replace("ъ", "ʼ")
    word = word.replace("и", "і").replace("И", "І")
    letters = []
    for index, letter in enumerate(word):
        following = word[index + 1] if index + 1 < len(word) else ""
        if letter in "дт" and following in _SOFT:
            letter = "дз" if letter == "д" else "ц"
        elif letter == "у" and index and word[index - 1] in _VOWELS:
            letter = "ў"
        letters.append(letter)
    return "".join(letters)


_BY_PASSPORT = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "ie", "ё": "io",
    "ж": "zh", "з": "z", "і": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ў": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "ы": "y", "ь": "", "э": "e", "ю": "iu", "я": "ia", "ʼ": "", "'": "",
}


def belarusian_passport(name: str) -> str:
    """The Latin spelling of Belarusian passports (BGN/PCGN-like: Аляксандр → Aliaksandr)."""
    spelled = "".join(_BY_PASSPORT.get(letter.lower(), letter.lower()) for letter in name)
    return spelled[:1].upper() + spelled[1:]


def _scheme(table) -> Callable[[str], str]:
    return lambda name: translitua.translit(name, table)


@dataclass(frozen=True)
class Spelling:
    """One way a name of a language is written on a record."""

    tag: str  # in the record's variants; "" for the native spelling
    weight: float  # among the Latin spellings of a Cyrillic language
    spell: Callable[[str], str]


def _same(name: str) -> str:
    return name


_MD_ROMANIAN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "io", "ж": "j", "з": "z",
    "и": "i", "й": "i", "к": "c", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "ț", "ч": "ci", "ш": "ș", "щ": "șc",
    "ъ": "", "ы": "î", "ь": "", "э": "e", "ю": "iu", "я": "ia",
}
_MD_BEFORE_E_I = {"г": "gh", "к": "ch", "ч": "c"}


def moldovan_romanian(name: str) -> str:
    """A Russian name as Moldovan registries write it, in Romanian spelling: Сергей →
    Serghei, Жуков → Jucov, Щербаков → Șcerbacov, Кирилл → Chirill."""
    lower = name.lower()
    letters = []
    for index, letter in enumerate(lower):
        following = lower[index + 1] if index + 1 < len(lower) else ""
        if letter in _MD_BEFORE_E_I and following in "еиэё":
            letters.append(_MD_BEFORE_E_I[letter])
        else:
            letters.append(_MD_ROMANIAN.get(letter, letter))
    spelled = "".join(letters)
    return spelled[:1].upper() + spelled[1:]


# The Latin spellings of Cyrillic names, with how often each is met. Some are schemes a
# normaliser knows (the passports'), some are not (anyascii's reading, the "simple" Slavic
# spelling with j, the Moldovan registries' Romanian spelling).
LATIN = {
    "uk": (Spelling("latin:uk_kmu", 0.3, _scheme(translitua.UkrainianKMU)),
           Spelling("latin:uk_passport2007", 0.15, _scheme(translitua.UkrainianPassport2007)),
           Spelling("latin:uk_bgn", 0.1, _scheme(translitua.UkrainianBGN)),
           Spelling("latin:uk_simple", 0.1, _scheme(translitua.UkrainianSimple)),
           Spelling("latin:uk_german", 0.1, _scheme(translitua.UkrainianGerman)),
           Spelling("latin:anyascii", 0.25, anyascii)),
    "ru": (Spelling("latin:ru_icao", 0.3, _scheme(translitua.RussianICAO)),
           Spelling("latin:ru_passport1997", 0.15,
                    _scheme(translitua.RussianInternationalPassport1997)),
           Spelling("latin:ru_driver", 0.05, _scheme(translitua.RussianDriverLicense)),
           Spelling("latin:ru_simple", 0.1, _scheme(translitua.RussianSimple)),
           Spelling("latin:md_romanian", 0.2, moldovan_romanian),
           Spelling("latin:anyascii", 0.2, anyascii)),
    # Belarusian names are kept in their Russian form: these spell the Belarusian one.
    "be": (Spelling("latin:by_passport", 0.6, lambda name: belarusian_passport(belarusian(name))),
           Spelling("latin:anyascii", 0.2, lambda name: anyascii(belarusian(name))),
           Spelling("latin:ru_icao", 0.2, _scheme(translitua.RussianICAO))),
}
CEDILLA = str.maketrans("șțȘȚ", "şţŞŢ")
NATIVE = Spelling("", 1.0, _same)
BELARUSIAN = Spelling("", 1.0, belarusian)
RUSSIAN_FORM = Spelling("russian_form", 1.0, _same)
NO_DIACRITICS = Spelling("no_diacritics", 1.0, anyascii)
WITH_CEDILLA = Spelling("cedilla", 1.0, lambda name: name.translate(CEDILLA))


def spellings(language: str) -> tuple[Spelling, ...]:
    """Every way a name of the language is written; the first is the native one."""
    if language == "be":
        return (BELARUSIAN, RUSSIAN_FORM, *LATIN["be"])
    if language in LATIN:
        return (NATIVE, *LATIN[language])
    if language == "ro":
        return (NATIVE, NO_DIACRITICS, WITH_CEDILLA)
    return (NATIVE, NO_DIACRITICS)


# --- countries -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Country:
    code: str  # ISO 3166-1 alpha-2
    share: float
    languages: tuple[tuple[str, float], ...]  # of the persons' names
    town_language: str
    towns: tuple[str, ...]
    streets: tuple[str, ...]  # "{street} {number}, {town}"
    calling_code: str
    trunk_prefix: str
    mobile_prefixes: tuple[str, ...]
    mobile_digits: int  # after the prefix
    document: Callable[[random.Random], str]


def _digits(rng: random.Random, count: int) -> str:
    return str(rng.randrange(10 ** count)).zfill(count)


COUNTRIES = (
    Country("MD", 0.35, (("ro", 0.8), ("ru", 0.2)), "ro",
            ("Chișinău", "Bălți", "Cahul", "Ungheni", "Soroca", "Orhei", "Comrat", "Edineț",
             "Hîncești", "Căușeni", "Strășeni", "Florești", "Drochia", "Ialoveni", "Leova",
             "Sîngerei", "Fălești", "Criuleni", "Nisporeni", "Telenești"),
            ("str. Ștefan cel Mare", "str. Mihai Eminescu", "str. Alexandru cel Bun",
             "str. Mitropolit Varlaam", "str. Independenței", "str. Păcii", "str. Decebal"),
            "373", "0", ("6", "7"), 7, lambda rng: "AB" + _digits(rng, 7)),
    Country("UA", 0.20, (("uk", 1.0),), "uk",
            ("Київ", "Харків", "Одеса", "Дніпро", "Львів", "Запоріжжя", "Вінниця", "Чернівці",
             "Ізмаїл", "Житомир", "Полтава", "Херсон", "Миколаїв", "Чернігів", "Біла Церква",
             "Івано-Франківськ", "Тернопіль", "Рівне", "Суми", "Ужгород"),
            ("вул. Шевченка", "вул. Франка", "вул. Соборна", "вул. Грушевського",
             "просп. Миру", "вул. Незалежності", "вул. Лесі Українки"),
            "380", "0", ("50", "63", "66", "67", "68", "73", "93", "95", "96", "97", "98"), 7,
            lambda rng: rng.choice(("FA", "FE", "FT", "EK")) + _digits(rng, 6)),
    Country("RU", 0.10, (("ru", 1.0),), "ru",
            ("Москва", "Санкт-Петербург", "Ростов-на-Дону", "Краснодар", "Воронеж", "Самара",
             "Казань", "Волгоград", "Курск", "Белгород", "Брянск", "Смоленск", "Тула",
             "Нижний Новгород", "Саратов"),
            ("ул. Ленина", "ул. Мира", "ул. Гагарина", "ул. Советская", "ул. Пушкина",
             "ул. Садовая", "пр. Победы"),
            "7", "8", ("9",), 9, lambda rng: "7" + _digits(rng, 8)),
    Country("BY", 0.07, (("be", 1.0),), "be",
            ("Минск", "Гомель", "Брест", "Витебск", "Гродно", "Могилёв", "Бобруйск",
             "Барановичи", "Борисов", "Пинск", "Орша", "Мозырь", "Лида", "Слоним"),
            ("вул. Незалежнасці", "вул. Леніна", "вул. Кірава", "вул. Савецкая",
             "вул. Пушкіна", "пр. Пераможцаў"),
            "375", "80", ("25", "29", "33", "44"), 7, lambda rng: "MP" + _digits(rng, 7)),
    Country("RO", 0.13, (("ro", 1.0),), "ro",
            ("București", "Iași", "Cluj-Napoca", "Timișoara", "Constanța", "Craiova",
             "Galați", "Brașov", "Ploiești", "Brăila", "Oradea", "Bacău", "Pitești", "Suceava",
             "Botoșani", "Vaslui", "Focșani", "Bârlad", "Piatra Neamț", "Târgu Mureș"),
            ("str. Mihai Viteazu", "str. Unirii", "bd. Independenței", "str. Ștefan cel Mare",
             "str. Libertății", "str. Florilor", "calea Victoriei"),
            "40", "0", ("7",), 8, lambda rng: "05" + _digits(rng, 7)),
    Country("TR", 0.15, (("tr", 1.0),), "tr",
            ("İstanbul", "Ankara", "İzmir", "Bursa", "Antalya", "Adana", "Konya", "Gaziantep",
             "Şanlıurfa", "Kocaeli", "Mersin", "Diyarbakır", "Kayseri", "Eskişehir", "Samsun",
             "Trabzon", "Muğla", "Çanakkale", "Ağrı", "Iğdır"),
            ("Atatürk Caddesi", "Cumhuriyet Caddesi", "İnönü Sokak", "Gazi Bulvarı",
             "Çiçek Sokak", "Mevlana Caddesi", "Barış Sokak"),
            "90", "0", ("5",), 9, lambda rng: "U" + _digits(rng, 8)),
)
FAKER_LOCALES = {"ro": "ro_RO", "uk": "uk_UA", "ru": "ru_RU", "be": "ru_RU", "tr": "tr_TR"}


TR_STEMS = ("Ak", "Kara", "Öz", "Er", "Gök", "Demir", "Ay", "Gün", "Tok", "Bay", "Şen",
            "Taş", "Kurt", "Al", "Sarı", "Çak", "Yıl", "Kılıç", "Uçar", "Tekin")
TR_ENDINGS = ("kaya", "taş", "türk", "demir", "yıldız", "er", "han", "oğlu", "soy", "güneş",
              "doğan", "kurt", "el", "baş", "ok")


def derived_family_names(language: str, male_given_names: Sequence[str]) -> list[str]:
    """Family names made as the language makes them (from fathers' names, Turkish
    compounds), so that a large register does not run out of them: Faker's lists hold a
    few dozen to a few hundred, far fewer than a country has."""
    if language == "tr":
        return [stem + ending for stem in TR_STEMS for ending in TR_ENDINGS]
    names = []
    for given in male_given_names:
        stem = given[:-1] if given[-1] in "аяйьоaeiuă" else given
        if language == "ro":
            names += [stem + "escu", stem + "eanu", stem + "aru"]
        elif language == "uk":
            names += [stem + "енко", stem + "ук", stem + "ишин"]
        else:
            ending = "ин" if given[-1] in "ая" else "ев" if given[-1] in "йьжшчщц" else "ов"
            names += [stem + ending] + ([stem + "ович"] if language == "be" else [])
    return names


@dataclass(frozen=True)
class Pool:
    """The names of one language, each with all its spellings (in `spellings` order)."""

    language: str
    spellings: tuple[Spelling, ...]
    given: dict[str, tuple[tuple[str, ...], ...]]  # by sex
    family: dict[str, tuple[tuple[str, ...], ...]]  # by sex, aligned: one name, two forms
    towns: dict[str, tuple[tuple[str, ...], ...]]  # by country code


def _spell_all(names: Iterable[str], ways: Sequence[Spelling]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(way.spell(name) for way in ways) for name in names)


def _draw(make: Callable[[], str], count: int = 2000) -> list[str]:
    return sorted({make() for _ in range(count)})


@cache
def name_pool(language: str, seed: int) -> Pool:
    """The names of a language, drawn once from a seeded Faker, with every spelling."""
    from faker import Faker  # only the generator needs it, not a node

    fake = Faker(FAKER_LOCALES[language])
    fake.seed_instance(seed)
    given = {"female": _draw(fake.first_name_female), "male": _draw(fake.first_name_male)}
    if language in ("ru", "be", "uk"):
        masculine = sorted({*_draw(fake.last_name_male),
                            *derived_family_names(language, given["male"])})
        family = {"male": masculine, "female": [feminine(name) for name in masculine]}
    else:
        extra = RO_FAMILY_NAMES if language == "ro" else TR_FAMILY_NAMES
        names = sorted({*_draw(fake.last_name), *extra,
                        *derived_family_names(language, given["male"])})
        family = {"male": names, "female": names}
    ways = spellings(language)
    towns = {country.code: _spell_all(country.towns,
                                      ways if country.town_language == language else (NATIVE,))
             for country in COUNTRIES}
    return Pool(language, ways,
                {sex: _spell_all(names, ways) for sex, names in given.items()},
                {sex: _spell_all(names, ways) for sex, names in family.items()},
                towns)


class Weighted:
    """Draws one of the values with the given weights (one random number a draw)."""

    def __init__(self, pairs: Iterable[tuple[object, float]]):
        pairs = list(pairs)
        self.values = [value for value, _ in pairs]
        self.cumulative = list(accumulate(weight for _, weight in pairs))

    def draw(self, rng: random.Random):
        return self.values[bisect(self.cumulative, rng.random() * self.cumulative[-1])]


# --- persons -------------------------------------------------------------------------------

@dataclass
class Person:
    """A generated person: the truth behind the records."""

    person_id: str
    household_id: str
    country: Country
    language: str
    sex: str
    given: int  # index into the pool
    family: int
    birth: date
    town: int
    citizenships: tuple[str, ...]
    address: str
    phone: tuple[str, str] | None  # (calling code, national number)
    document: str


def generate_register(persons: int, seed: int, **rates: float) -> list[dict]:
    """A register of `persons` persons, some registered several times, shuffled, with known
    truth; `rates` override `RATES` (the share of persons or records each variant touches)."""
    unknown = set(rates) - set(RATES)
    if unknown:
        raise TypeError(f"unknown rates: {', '.join(sorted(unknown))}")
    for name, value in rates.items():
        if not 0 <= value <= 1:
            raise ValueError(f"rate {name} must be between 0 and 1, not {value}")
    rate = {**RATES, **rates}
    rng = random.Random(f"opennrm-linkage/{seed}")
    people = _persons(persons, rng, rate, seed)
    rows = []
    registrations = Weighted(REGISTRATIONS)
    for person in people:
        times = registrations.draw(rng) if rng.random() < rate["duplicated"] else 1
        for agency in rng.sample(AGENCIES, times):
            rows.append(_record(person, agency, rng, rate, seed))
    rng.shuffle(rows)
    width = max(7, len(str(len(rows))))
    for number, row in enumerate(rows, 1):
        row["record_id"] = f"{row['record_id']}-{number:0{width}d}"
    return rows


def expected_records_per_person(**rates: float) -> float:
    """How many records a person has on average, for sizing a register by its records."""
    registrations = sum(times * weight for times, weight in REGISTRATIONS)
    return 1 + {**RATES, **rates}["duplicated"] * (registrations - 1)


def _persons(count: int, rng: random.Random, rate: dict, seed: int) -> list[Person]:
    countries = Weighted((country, country.share) for country in COUNTRIES)
    household_size = sum(size * weight for size, weight in HOUSEHOLD_SIZES)
    # A draw makes one single person, one pair of twins or one household: weighted so that
    # the shares of persons in households and twins are the rates.
    units = Weighted((("household", rate["households"] / household_size),
                      ("twins", rate["twins"] / 2),
                      ("single", max(0.0, 1 - rate["households"] - rate["twins"]))))
    sizes = Weighted(HOUSEHOLD_SIZES)
    people: list[Person] = []
    households = 0
    while len(people) < count:
        unit = units.draw(rng)
        founder = _person(f"p{len(people) + 1:08d}", "", countries.draw(rng), rng, rate, seed)
        if unit == "single":
            people.append(founder)
            continue
        households += 1
        # "t…" for a pair of twins, "h…" for a household.
        founder.household_id = f"{unit[0]}{households:07d}"
        size = 2 if unit == "twins" else sizes.draw(rng)
        members = [founder]
        for _ in range(size - 1):
            identifier = f"p{len(people) + len(members) + 1:08d}"
            members.append(_relative(founder, identifier, unit == "twins", rng, rate, seed))
        people.extend(members[: count - len(people)])
    return people


def _person(person_id: str, household_id: str, country: Country, rng: random.Random,
            rate: dict, seed: int) -> Person:
    language = Weighted(country.languages).draw(rng)
    pool = name_pool(language, seed)
    sex = "female" if rng.random() < 0.6 else "male"
    # Ages 14-65 at the reference date, most between 18 and 40.
    age_days = int(rng.triangular(14, 65, 22) * 365.25)
    citizenships = (country.code,)
    if country.code == "MD" and rng.random() < rate["dual_citizenship"]:
        citizenships = ("MD", "RO")
    return Person(
        person_id, household_id, country, language, sex,
        rng.randrange(len(pool.given[sex])), rng.randrange(len(pool.family[sex])),
        date.fromordinal(REFERENCE.toordinal() - age_days),
        rng.randrange(len(country.towns)), citizenships, _address(country, rng),
        _phone(country, rng) if rng.random() < rate["phone"] else None,
        country.document(rng) if rng.random() < rate["document"] else "")


def _relative(founder: Person, person_id: str, twin: bool, rng: random.Random, rate: dict,
              seed: int) -> Person:
    """A member of the founder's household: the same family name, address and phone."""
    pool = name_pool(founder.language, seed)
    sex = "female" if rng.random() < 0.5 else "male"
    given = rng.randrange(len(pool.given[sex]))
    while sex == founder.sex and given == founder.given:
        given = rng.randrange(len(pool.given[sex]))
    if twin:
        birth = founder.birth
    else:
        # A sibling or spouse up to 12 years apart, or a child or parent 18 to 35 years
        # apart: a child only if born at least three years before the reference date.
        years = rng.choice((rng.randint(-12, 12) or 1, rng.randint(18, 35)))
        birth = founder.birth.toordinal() + int(years * 365.25) + rng.randint(-180, 180)
        if birth > REFERENCE.toordinal() - 3 * 365:
            birth -= 2 * int(years * 365.25)
        birth = date.fromordinal(birth)
    town = founder.town if twin or rng.random() < 0.7 else rng.randrange(
        len(founder.country.towns))
    phone = founder.phone if founder.phone and rng.random() < 0.8 else None
    return Person(person_id, founder.household_id, founder.country, founder.language, sex,
                  given, founder.family, birth, town, founder.citizenships, founder.address,
                  phone, founder.country.document(rng) if rng.random() < rate["document"] else "")


def _address(country: Country, rng: random.Random) -> str:
    return (f"{rng.choice(country.streets)} {rng.randint(1, 180)}, "
            f"{rng.choice(country.towns)}")


def _phone(country: Country, rng: random.Random) -> tuple[str, str]:
    return (country.calling_code,
            rng.choice(country.mobile_prefixes) + _digits(rng, country.mobile_digits))


# --- records -------------------------------------------------------------------------------

def _record(person: Person, agency: str, rng: random.Random, rate: dict, seed: int) -> dict:
    """One registration of the person by the agency, typed as that agency typed it."""
    pool = name_pool(person.language, seed)
    variants = []
    way = _spelling(pool, rng, rate)
    given = pool.given[person.sex][person.given][way]
    family = pool.family[person.sex][person.family][way]
    tag = pool.spellings[way].tag
    town = ""
    if rng.random() < rate["place_of_birth"]:
        spelled = pool.towns[person.country.code][person.town]
        town = spelled[way] if len(spelled) > 1 else spelled[0]
    native = (pool.given[person.sex][person.given][0], pool.family[person.sex][person.family][0],
              pool.towns[person.country.code][person.town][0] if town else "")
    if tag and (given, family, town) != native:
        variants.append(tag)
    if tag.startswith("latin") and rng.random() < rate["upper"]:
        given, family = given.upper(), family.upper()
        variants.append("upper")
    if rng.random() < rate["typo"]:
        if rng.random() < 0.5:
            given = typo(given, rng)
            variants.append("typo:given")
        else:
            family = typo(family, rng)
            variants.append("typo:family")
    if rng.random() < rate["missing_given_name"]:
        given = ""
    birth_date = _birth_date(person.birth, rng, rate, variants)
    sex = "" if rng.random() < rate["missing_sex"] else person.sex
    citizenship = _citizenship(person, rng, rate, variants)
    address = person.address if rng.random() < rate["address"] else ""
    phone = _phone_as_typed(person, rng, rate, variants)
    document = _document(person, rng, rate, variants)
    return {"record_id": agency, "person_id": person.person_id,
            "household_id": person.household_id, "variants": ";".join(variants),
            "given_name": given, "family_name": family, "birth_date": birth_date, "sex": sex,
            "citizenship": citizenship, "place_of_birth": town, "address": address,
            "phone": phone, "document_number": document}


def _spelling(pool: Pool, rng: random.Random, rate: dict) -> int:
    """The index of the spelling a record uses."""
    language = pool.language
    if language in LATIN:
        if rng.random() < rate["latin"]:
            first = 2 if language == "be" else 1
            return first + _latin_schemes(language).draw(rng)
        if language == "be" and rng.random() < rate["russian_form"]:
            return 1
        return 0
    draw = rng.random()
    if draw < rate["no_diacritics"]:
        return 1
    if language == "ro" and draw < rate["no_diacritics"] + rate["cedilla"]:
        return 2
    return 0


@cache
def _latin_schemes(language: str) -> Weighted:
    return Weighted((index, way.weight) for index, way in enumerate(LATIN[language]))


CYRILLIC_LETTERS = "абвгдежзиклмнопрстуфхцчшыэюяі"
LATIN_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def typo(name: str, rng: random.Random) -> str:
    """The name with one edit after its first letter: a letter left out, added or changed,
    or two neighbours swapped; in the name's own script and case."""
    if len(name) < 3:
        return name + name[-1:] if name else name
    letters = CYRILLIC_LETTERS if "\u0400" <= name[0] <= "\u04ff" else LATIN_LETTERS
    if name.isupper():
        letters = letters.upper()
    position = rng.randrange(1, len(name))
    edit = rng.randrange(4)
    if edit == 0:
        return name[:position] + name[position + 1:]
    if edit == 1:
        return name[:position] + rng.choice(letters) + name[position:]
    if edit == 2 and position + 1 < len(name) and name[position] != name[position + 1]:
        return name[:position] + name[position + 1] + name[position] + name[position + 2:]
    replacement = rng.choice(letters)
    while replacement == name[position]:
        replacement = rng.choice(letters)
    return name[:position] + replacement + name[position + 1:]


def _birth_date(birth: date, rng: random.Random, rate: dict, variants: list[str]) -> str:
    draw = rng.random()
    if draw < rate["missing_date"]:
        variants.append("missing_date")
        return ""
    if draw < rate["missing_date"] + rate["year_only"]:
        variants.append("year_only")
        return str(birth.year)
    draw = rng.random()
    if draw < rate["swapped_date"] and birth.day <= 12 and birth.day != birth.month:
        birth = date(birth.year, birth.day, birth.month)
        variants.append("swapped_date")
    elif rate["swapped_date"] <= draw < rate["swapped_date"] + rate["off_by_one_day"]:
        birth = date.fromordinal(birth.toordinal() + rng.choice((-1, 1)))
        variants.append("off_by_one_day")
    if rng.random() < rate["format_dmy"]:
        variants.append("format_dmy")
        return f"{birth.day:02d}.{birth.month:02d}.{birth.year}"
    return f"{birth.year}-{birth.month:02d}-{birth.day:02d}"


def _citizenship(person: Person, rng: random.Random, rate: dict, variants: list[str]) -> str:
    if rng.random() < rate["missing_citizenship"]:
        return ""
    if len(person.citizenships) > 1 and rng.random() < rate["other_citizenship"]:
        variants.append("dual_citizenship")
        return person.citizenships[1]
    return person.citizenships[0]


def _phone_as_typed(person: Person, rng: random.Random, rate: dict,
                    variants: list[str]) -> str:
    if person.phone is None or rng.random() >= rate["phone_recorded"]:
        return ""
    code, number = person.phone
    if rng.random() < rate["phone_changed"]:
        code, number = _phone(person.country, rng)
        variants.append("phone_changed")
    draw = rng.random()
    if draw < 0.5:
        return f"+{code}{number}"
    if draw < 0.7:
        return f"+{code} {number[:2]} {number[2:5]} {number[5:]}"
    return person.country.trunk_prefix + number


def _document(person: Person, rng: random.Random, rate: dict, variants: list[str]) -> str:
    if not person.document or rng.random() >= rate["document_recorded"]:
        return ""
    document = person.document
    if rng.random() < rate["document_other"]:
        document = person.country.document(rng)
        variants.append("document_other")
    if rng.random() < rate["document_spaced"]:
        document = f"{document[:2]} {document[2:]}"
    return document


# --- output and summary --------------------------------------------------------------------

def write_csv(rows: Iterable[dict], path: str | Path, columns: Sequence[str] = COLUMNS) -> None:
    """Write the register as UTF-8 CSV with the columns given (all, truth included, unless
    told), in that order."""
    with open(path, "w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def true_pairs(rows: Iterable[dict]) -> int:
    """How many pairs of records are the same person."""
    return sum(n * (n - 1) // 2 for n in Counter(row["person_id"] for row in rows).values())


def summary(rows: Sequence[dict]) -> dict[str, int]:
    """Counts that describe a register: records, persons, duplicated persons, true pairs,
    persons in households and twins, and the records each variant touched."""
    registrations = Counter(row["person_id"] for row in rows)
    members: dict[str, set[str]] = {}
    for row in rows:
        if row["household_id"]:
            members.setdefault(row["household_id"], set()).add(row["person_id"])
    counts = Counter(variant.split(":")[0] for row in rows
                     for variant in row["variants"].split(";") if variant)
    return {
        "records": len(rows),
        "persons": len(registrations),
        "duplicated_persons": sum(1 for n in registrations.values() if n > 1),
        "true_pairs": sum(n * (n - 1) // 2 for n in registrations.values()),
        "households": sum(1 for key in members if key.startswith("h")),
        "persons_in_households": sum(len(people) for key, people in members.items()
                                     if key.startswith("h")),
        "twin_pairs": sum(1 for key, people in members.items()
                          if key.startswith("t") and len(people) == 2),
        **{f"variant:{name}": count for name, count in sorted(counts.items())},
    }
