"""The research extract: a de-identified, CTDC-compatible file with one row per person.

A researcher gets either this k-anonymous extract (`ctdc_extract`) or a differentially
private synthetic file (`synthetic.dp_synthetic_extract`), never identity fields and
never our internal keys (case_id, person_key).

The input is the statistics engine's cases frame (see `statistics.frames`): one row per
case. The extract keeps presumed and identified victims (as CTDC does: a person found not
to be a victim is not in a victims' dataset) and collapses the cases of one person
(`person_key`) into one row:

* demographics (year of registration, gender, age band, majority status, citizenship)
  come from the person's earliest case (earliest first contact, then lowest case id);
* CountryOfExploitation is the first country of exploitation named, earliest case first;
* the flags (means of control, forms of exploitation, labour sectors, recruiter
  relations) are the union over all the person's cases: 1 if any case records it.

Columns and values follow the CTDC global k-anonymised dataset (2021 release). The
mapping from our codes (the data file `mappings/ctdc.json`), and what it leaves out:

* gender: female → "Female", male → "Male", transgender_or_other →
  "Transgender/NonConforming", unknown → "Unknown".
* ageBroad: our CTDC bands written as CTDC writes them ("9-17" → "9--17"); unknown →
  "Unknown". majorityStatus: "Minor" when the case counts the person as a child (under 18,
  or presumed a child because the age is not established), "Adult" when the age is known
  and 18 or over, otherwise "Unknown".
* citizenship and CountryOfExploitation: ISO 3166 alpha-2, "Unknown" when none is known.
* forms of exploitation: forced_labour and child_labour → isForcedLabour;
  forced_begging and forced_criminality → isForcedLabour with typeOfLabourBegging /
  typeOfLabourIllicitActivities (CTDC counts begging and illicit activities as types of
  labour; Eurostat's tables count them as "other"); sexual_exploitation →
  isSexualExploit; isSexAndLabour = both; forced_marriage → isForcedMarriage;
  forced_military → isForcedMilitary; organ_removal → isOrganRemoval; servitude →
  isSlaveryAndPractices; illegal_adoption, surrogacy and other → isOtherExploit.
* labour sector (ISIC section): A → Agriculture, B → MiningOrDrilling, C →
  Manufacturing, F → Construction, H → Transportation, I → Hospitality, T → DomesticWork,
  every other section → Other; typeOfLabourNotSpecified = forced labour with no type.
* means of control: our codes are CTDC's, one flag each; meansOfControlNotSpecified = none
  recorded.
* recruiter relation: intimate_partner, friend, family → their flag; employer, stranger,
  other → recruiterRelationOther; unknown or none → recruiterRelationUnknown.
* left out, because we do not record them: majorityStatusAtExploit, majorityEntry,
  meansOfControlRestrictsFinancialAccess, typeOfLabourAquafarming (ISIC A does not tell
  fishing farms apart), typeOfLabourPeddling, typeOfSex*, isAbduction; and the
  *Concatenated and RecruiterRelationship text columns, which only repeat the flags.
  A column we cannot fill is left out rather than filled with 0, which would say "no".

The quasi-identifiers for k-anonymity are yearOfRegistration, gender, ageBroad,
majorityStatus, citizenship and CountryOfExploitation: what a neighbour, an employer or a
journalist may know about a person. The flags are treated as sensitive attributes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from django.conf import settings

from opennrm.core import codelists, datafiles
from opennrm.statistics.kanonymity import (
    GeneralisationStep,
    KAnonymityReport,
    enforce_k_anonymity,
)

# Field names that must never be in an extract: who the person is, how to reach them,
# our internal keys, and anything finer than the year. Names are compared without case,
# underscores or dashes ("birthDate" is "birth_date"). Any date column is refused too.
IDENTITY_FIELDS = (
    # identity and contact
    "name", "given_name", "family_name", "first_name", "last_name", "full_name",
    "aliases", "name_index", "birth_date", "date_of_birth", "dob", "birth_year", "age",
    "identity_documents", "identity_number", "document_number", "passport_number",
    "phone", "email", "address", "notes", "description",
    # internal keys
    "case_id", "person_key", "person_id", "case_number", "global_id",
    "statistical_person_id", "referral_id",
    # dates finer than the year
    "first_contact_on", "registered_at", "victim_status_decided_on", "closed_on",
    "closed_at", "first_referral_on", "identified_on", "reflection_started_on",
    "permit_granted_on", "exploitation_started_on", "exploitation_ended_on",
)

DATA_SOURCE = "Case Management"
UNKNOWN = "Unknown"
OTHER = "Other"
MINIMUM_K = 2
# The victims a research extract is about.
VICTIM_STATUSES = ("presumed", "identified")

# How our codes become CTDC's columns and values: data (mappings/ctdc.json, checked
# against schemas/ctdc_mapping.schema.json when it loads), not code.
CTDC_MAPPING = datafiles.register(datafiles.DataKind(
    name="CTDC mapping",
    schema=Path(__file__).parent / "schemas" / "ctdc_mapping.schema.json",
    folders=lambda: [Path(__file__).parent / "mappings"],
    pattern="ctdc.json",
    check=datafiles.name_is_file_name(),
)).load(Path(__file__).parent / "mappings" / "ctdc.json")

# Our gender code → CTDC's value.
GENDERS: dict[str, str] = CTDC_MAPPING["gender"]
# Our means of control → its CTDC flag (one each).
MEANS_OF_CONTROL: dict[str, str] = CTDC_MAPPING["means_of_control"]
# CTDC flag ← our forms of exploitation that set it.
EXPLOITATION_FLAGS = {flag: tuple(codes)
                      for flag, codes in CTDC_MAPPING["exploitation_flags"].items()}
# CTDC type of labour ← ISIC sections; sections not named here are "Other".
LABOUR_SECTORS = {flag: tuple(codes) for flag, codes in CTDC_MAPPING["labour_sectors"].items()}
# CTDC type of labour ← forms of exploitation (CTDC counts these as labour).
LABOUR_FORMS = {flag: tuple(codes) for flag, codes in CTDC_MAPPING["labour_forms"].items()}
RECRUITER_RELATIONS = {flag: tuple(codes)
                       for flag, codes in CTDC_MAPPING["recruiter_relations"].items()}

# The extract's columns, in CTDC's order.
CTDC_COLUMNS = (
    "yearOfRegistration", "Datasource", "gender", "ageBroad", "majorityStatus", "citizenship",
    *MEANS_OF_CONTROL.values(), "meansOfControlNotSpecified",
    "isForcedLabour", "isSexualExploit", "isOtherExploit", "isSexAndLabour",
    "isForcedMarriage", "isForcedMilitary", "isOrganRemoval", "isSlaveryAndPractices",
    "typeOfLabourAgriculture", "typeOfLabourBegging", "typeOfLabourConstruction",
    "typeOfLabourDomesticWork", "typeOfLabourHospitality", "typeOfLabourIllicitActivities",
    "typeOfLabourManufacturing", "typeOfLabourMiningOrDrilling",
    "typeOfLabourTransportation", "typeOfLabourOther", "typeOfLabourNotSpecified",
    "CountryOfExploitation",
    *RECRUITER_RELATIONS, "recruiterRelationUnknown",
)

QUASI_IDENTIFIERS = ("yearOfRegistration", "gender", "ageBroad", "majorityStatus",
                     "citizenship", "CountryOfExploitation")


@dataclass
class Extract:
    """A research extract: the rows, how they were protected, and what to tell the reader.

    `report` is the k-anonymity report of a k-anonymous extract (None for a synthetic
    one); `epsilon` is the privacy budget a differentially private extract spent.
    """

    frame: pl.DataFrame
    report: KAnonymityReport | None
    columns: list[str]
    notes: list[str] = field(default_factory=list)
    epsilon: float | None = None


def _normalised(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


_FORBIDDEN = {_normalised(name) for name in IDENTITY_FIELDS}


def assert_no_identity_fields(frame: pl.DataFrame) -> None:
    """Refuse (ValueError) a frame with an identity field, an internal key or a date."""
    forbidden = [name for name in frame.columns if _normalised(name) in _FORBIDDEN]
    dated = [name for name, dtype in frame.schema.items() if dtype.is_temporal()]
    if forbidden or dated:
        raise ValueError("an extract must not hold identity fields, internal keys or dates: "
                         + ", ".join(sorted(set(forbidden + dated))))


def reporting_country() -> str:
    """The country this node reports for (ISO alpha-2)."""
    return settings.OPENNRM_COUNTRY


def ctdc_generalisation_steps(country: str) -> list[GeneralisationStep]:
    """The generalisation steps of the CTDC extract, in the order they are tried.

    The order follows what an outsider most easily knows about a person: the age first
    (majorityStatus stays, so minors stay apart), then the nationality, then where they
    were exploited. yearOfRegistration is never generalised: it is the extract's time
    axis, and gender has too few values to coarsen; what stays unique is suppressed.
    """
    return [
        GeneralisationStep(
            name="ageBroad", column="ageBroad", replacement=UNKNOWN,
            reason="the age band is withheld (shown as Unknown); majorityStatus is kept"),
        GeneralisationStep(
            name="citizenship", column="citizenship", replacement=OTHER,
            keep=frozenset({country, UNKNOWN}),
            reason=f"a citizenship other than {country} is shown as Other"),
        GeneralisationStep(
            name="CountryOfExploitation", column="CountryOfExploitation", replacement=OTHER,
            keep=frozenset({country, UNKNOWN}),
            reason=f"a country of exploitation other than {country} is shown as Other"),
    ]


def _flag(expression: pl.Expr) -> pl.Expr:
    """A CTDC flag: 1 or 0 (a missing value is 0: nothing recorded)."""
    return expression.fill_null(False).cast(pl.Int8)


def _holds_any(column: str, codes: Iterable[str]) -> pl.Expr:
    """Whether the case's list column holds any of `codes`."""
    return pl.col(column).list.eval(pl.element().is_in(list(codes))).list.any()


def _country(expression: pl.Expr) -> pl.Expr:
    """An ISO alpha-2 code as published: the code when it is one, else Unknown."""
    known = list(codelists.entries("countries"))
    return pl.when(expression.is_in(known)).then(expression).otherwise(pl.lit(UNKNOWN))


def _case_flags(cases: pl.DataFrame) -> pl.DataFrame:
    """The cases with the CTDC flags each of them records."""
    named_sectors = [code for codes in LABOUR_SECTORS.values() for code in codes]
    flags = [_flag(_holds_any("means_of_control", [code])).alias(name)
             for code, name in MEANS_OF_CONTROL.items()]
    flags += [_flag(_holds_any("exploitation_forms", codes)).alias(name)
              for name, codes in EXPLOITATION_FLAGS.items()]
    flags += [_flag(pl.col("labour_sector").is_in(codes)).alias(name)
              for name, codes in LABOUR_SECTORS.items()]
    flags += [_flag(_holds_any("exploitation_forms", codes)).alias(name)
              for name, codes in LABOUR_FORMS.items()]
    flags.append(_flag((pl.col("labour_sector") != "")
                       & ~pl.col("labour_sector").is_in(named_sectors))
                 .alias("typeOfLabourOther"))
    flags += [_flag(pl.col("recruiter_relation").is_in(codes)).alias(name)
              for name, codes in RECRUITER_RELATIONS.items()]
    return cases.with_columns(
        *flags, pl.col("exploitation_countries").list.first().alias("exploitation_country"))


def _case_flag_names() -> list[str]:
    return [*MEANS_OF_CONTROL.values(), *EXPLOITATION_FLAGS, *LABOUR_SECTORS, *LABOUR_FORMS,
            "typeOfLabourOther", *RECRUITER_RELATIONS]


def _collapse_to_persons(cases: pl.DataFrame) -> pl.DataFrame:
    """One row per person_key: the earliest case's demographics, the first country of
    exploitation named (earliest case first), and each flag if any case records it."""
    earliest_first = _case_flags(
        cases.filter(pl.col("victim_status").is_in(VICTIM_STATUSES))
    ).sort(["person_key", "first_contact_on", "case_id"], nulls_last=True)
    return earliest_first.group_by("person_key", maintain_order=True).agg(
        *[pl.col(name).first() for name in ("first_contact_on", "gender", "age", "age_band",
                                            "is_child", "citizenships")],
        pl.col("exploitation_country").drop_nulls().first(),
        *[pl.col(name).max() for name in _case_flag_names()],
    )


def ctdc_persons(cases: pl.DataFrame, *,
                 registration_years: Iterable[int] | None = None) -> pl.DataFrame:
    """The CTDC-style person frame, before any disclosure control: one row per presumed
    or identified victim, the columns of `CTDC_COLUMNS` (see the module's docstring).

    With `registration_years`, only the persons whose earliest case falls in those
    years. Not for release as it is: `ctdc_extract` makes it k-anonymous.
    """
    persons = _collapse_to_persons(cases)
    age_bands = {code: code.replace("-", "--") for code in codelists.entries("age_bands")}
    frame = persons.with_columns(
        pl.col("first_contact_on").dt.year().cast(pl.Int32).alias("yearOfRegistration"),
        pl.lit(DATA_SOURCE).alias("Datasource"),
        pl.col("gender").replace_strict(GENDERS, default=UNKNOWN, return_dtype=pl.Utf8),
        pl.col("age_band").replace_strict(age_bands, default=UNKNOWN, return_dtype=pl.Utf8)
        .alias("ageBroad"),
        pl.when(pl.col("is_child")).then(pl.lit("Minor"))
        .when(pl.col("age").is_not_null() & (pl.col("age") >= 18)).then(pl.lit("Adult"))
        .otherwise(pl.lit(UNKNOWN)).alias("majorityStatus"),
        _country(pl.col("citizenships").list.first()).alias("citizenship"),
        _country(pl.col("exploitation_country")).alias("CountryOfExploitation"),
        _flag(pl.sum_horizontal(*MEANS_OF_CONTROL.values()) == 0)
        .alias("meansOfControlNotSpecified"),
        _flag((pl.col("isForcedLabour") == 1) & (pl.col("isSexualExploit") == 1))
        .alias("isSexAndLabour"),
        _flag((pl.col("isForcedLabour") == 1)
              & (pl.sum_horizontal(*LABOUR_SECTORS, *LABOUR_FORMS, "typeOfLabourOther") == 0))
        .alias("typeOfLabourNotSpecified"),
        _flag(pl.sum_horizontal(*RECRUITER_RELATIONS) == 0).alias("recruiterRelationUnknown"),
    )
    if registration_years is not None:
        frame = frame.filter(pl.col("yearOfRegistration").is_in(list(registration_years)))
    return frame.select(CTDC_COLUMNS)


def ctdc_extract(cases: pl.DataFrame, *, k: int = 11,
                 registration_years: Iterable[int] | None = None,
                 country: str | None = None) -> Extract:
    """The k-anonymous CTDC-compatible research extract: one row per person.

    Builds `ctdc_persons`, then makes it k-anonymous on `QUASI_IDENTIFIERS`:
    generalisation by `ctdc_generalisation_steps` (for the reporting `country`, this
    node's by default), then suppression of what is still in a class below k.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < MINIMUM_K:
        raise ValueError(f"k must be a whole number of at least {MINIMUM_K}: with k = 1 a "
                         "person may be alone with their combination of values")
    country = country or reporting_country()
    persons = ctdc_persons(cases, registration_years=registration_years)
    steps = ctdc_generalisation_steps(country)
    frame, report = enforce_k_anonymity(persons, QUASI_IDENTIFIERS, k, steps)
    if not report.passes:
        raise RuntimeError("the extract is not k-anonymous after suppression")
    assert_no_identity_fields(frame)

    notes = [
        f"One row per person: {persons.height} presumed or identified victims, the cases "
        "of one person counted once (demographics from the earliest case, flags from all).",
        f"k-anonymity with k = {k} on {', '.join(QUASI_IDENTIFIERS)}: every combination of "
        f"these values is shared by at least {k} rows.",
    ]
    reasons = {step.name: step.reason for step in steps}
    notes += [f"Generalised: {count} rows, {reasons[name]}."
              for name, count in report.generalised.items() if count]
    notes.append(f"Suppressed: {report.rows_suppressed} persons whose combination stayed "
                 f"shared by fewer than {k}.")
    notes.append("Unknown means not known or withheld; Other, a country other than "
                 f"{country} withheld. Flags are 1 when any of the person's cases records it.")
    return Extract(frame=frame, report=report, columns=list(frame.columns), notes=notes)


def render_extract_csv(extract: Extract) -> bytes:
    """The extract as a UTF-8 CSV file with a header row (the notes go beside it)."""
    assert_no_identity_fields(extract.frame)
    if list(extract.frame.columns) != list(extract.columns):
        raise ValueError("the extract's frame does not have the columns it declares")
    return extract.frame.write_csv().encode("utf-8")
