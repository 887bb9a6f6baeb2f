"""The five statistics table sets computed naively in pandas: the comparison for
bench_statistics.py ("the same computation written naively in pandas").

What a data analyst with a database connection and pandas would write: read every table the
statistics use whole (`pandas.read_sql("SELECT * FROM …")`: cases_case, cases_person,
accounts_agency, referrals_referral, services_service, referrals_assistance,
screening_identificationdecision, protection_reflectionperiod, protection_residencepermit,
protection_returnplan, transnational_transnationalreferral, transnational_partner and the
justice app's justice_criminalcase, justice_criminalcasestage, justice_suspectedperson and
justice_victimlink), parse
the JSON lists row by row (`json.loads`), join with `merge`,
filter the period in pandas, then compute every table of the definitions files
(`statistics/definitions/*.toml`, the same ones the engine reads) with plain pandas:
`.map`/`.apply` to categories, `sort_values` + `drop_duplicates` for one row per person
(the earliest case; the union of the person's cases for lists: `explode` +
`drop_duplicates`), `explode` of multi-valued categories, `groupby().nunique()` for counts,
`quantile(interpolation="nearest")` for medians and 90th percentiles, shares and rates.

It follows the engine's documented rules (docs of `statistics.engine`), so both should give
the same figures; bench_statistics.py compares them. A known difference: a tie in a
percentile (pandas rounds the position half to even, Polars half up) may pick the
neighbouring value.

Standalone, in the node's environment (DATABASE_URL, OPENNRM_KEYRING):

    .venv/bin/python benchmarks/pandas_statistics.py --year 2025
"""

import argparse
import json
import os
import time
import tomllib
import warnings
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

TABLE_SETS = ("eurostat", "glotip", "sdg", "ctdc", "nrm")
TABLES = ("cases_case", "cases_person", "accounts_agency", "referrals_referral",
          "services_service", "referrals_assistance", "screening_identificationdecision",
          "protection_reflectionperiod", "protection_residencepermit", "protection_returnplan",
          "transnational_transnationalreferral", "transnational_partner",
          "justice_criminalcase", "justice_criminalcasestage", "justice_suspectedperson",
          "justice_victimlink")
CASE_LISTS = ("exploitation_forms", "exploitation_countries", "recruitment_countries",
              "means_of_control")
UNIT_KEYS = {"persons": "person_key", "cases": "case_id", "referrals": "referral_id",
             "decisions": "_row"}
# EU member states, for Eurostat's "other EU": the engine's data file, read here (importing
# the engine would load Polars into the pandas process).
EU_MEMBERS = frozenset(json.loads(
    (Path(__file__).resolve().parents[1] / "src/opennrm/core/country_groups/eu.json")
    .read_text(encoding="utf-8"))["members"])
ORDER_COLUMNS = ("first_contact_on", "sent_on", "delivered_on", "closed_on", "returned_on",
                 "decided_on", "suspected_on", "prosecuted_on", "convicted_on", "identified_on")
# A criminal case at the indictment or later in the trial.
INDICTED_STAGES = ("indictment", "first_instance_judgement", "appeal", "final_judgement")


def definitions_dir() -> Path:
    import opennrm.statistics

    return Path(opennrm.statistics.__file__).parent / "definitions"


def load_toml(name: str) -> dict:
    with (definitions_dir() / f"{name}.toml").open("rb") as handle:
        return tomllib.load(handle)


# --- reading ---------------------------------------------------------------------------

def read_tables(connection) -> dict[str, pd.DataFrame]:
    """Every table whole, through the DB-API connection (pandas warns it is not SQLAlchemy)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return {name: pd.read_sql(f"SELECT * FROM {name}", connection) for name in TABLES}


def parse_list(value) -> list:
    """A JSON column: text on SQLite, already a list on PostgreSQL."""
    if isinstance(value, str):
        return json.loads(value)
    return value if isinstance(value, list) else []


def parse_object(value) -> dict:
    """A JSON object column: text on SQLite, already a dict on PostgreSQL."""
    if isinstance(value, str):
        return json.loads(value)
    return value if isinstance(value, dict) else {}


def to_day(series: pd.Series) -> pd.Series:
    """A date column as datetime64 (midnight)."""
    return pd.to_datetime(series)


def utc_day(series: pd.Series) -> pd.Series:
    """The UTC date of a timestamp column (aware on PostgreSQL, naive UTC on SQLite)."""
    return pd.to_datetime(series, utc=True).dt.tz_localize(None).dt.normalize()


def build_frames(t: dict[str, pd.DataFrame], start: date, end: date) -> dict:
    first, last = pd.Timestamp(start), pd.Timestamp(end)

    person = t["cases_person"].rename(columns={"id": "person_id"})
    person["person_key"] = person["statistical_person_id"].fillna(person["person_id"])
    person["person_key"] = person["person_key"].astype("int64")
    person["citizenships"] = person["citizenships"].apply(parse_list)
    agency = t["accounts_agency"].rename(columns={"id": "agency_id"})

    cases = t["cases_case"].rename(columns={"id": "case_id"})
    for column in CASE_LISTS:
        cases[column] = cases[column].apply(parse_list)
    cases = cases.merge(person[["person_id", "person_key", "gender", "birth_year",
                                "age_uncertainty", "citizenships"]], on="person_id")
    cases = cases.merge(agency[["agency_id", "agency_type"]], left_on="owner_agency_id",
                        right_on="agency_id")
    cases["first_contact_on"] = to_day(cases["first_contact_on"])
    cases["closed_on"] = utc_day(cases["closed_at"])
    cases["is_child"] = cases["is_child"].astype(bool)
    # The age at first contact the case keeps; child, adult or unknown by the child flag
    # (docs/statistics.md "Age"); a person's cases in case-number order on the same day.
    cases["age"] = cases["age_at_first_contact"]
    cases["majority"] = np.where(
        cases["is_child"], "child",
        np.where(cases["age_at_first_contact"].notna()
                 | (cases["age_uncertainty"] == "adult"), "adult", ""))
    cases["citizenship"] = cases["citizenships"].apply(lambda v: v[0] if v else "")
    cases["main_form"] = cases["exploitation_forms"].apply(lambda v: v[0] if v else "")
    cases["country_of_exploitation"] = cases["exploitation_countries"].apply(
        lambda v: v[0] if v else "")

    referrals = t["referrals_referral"].rename(columns={"id": "referral_id"})
    referrals["sent_on"] = utc_day(referrals["sent_at"])
    referrals["answered_on"] = utc_day(referrals["answered_at"])
    decisions = t["screening_identificationdecision"].copy()
    decisions["decided_on"] = to_day(decisions["decided_on"])
    periods = t["protection_reflectionperiod"].copy()
    periods["starts_on"] = to_day(periods["starts_on"])
    permits = t["protection_residencepermit"].copy()
    permits["decided_on"] = to_day(permits["decided_on"])

    # The first of each step per case, over all time.
    firsts = {
        "first_referral_on": referrals.groupby("case_id")["sent_on"].min(),
        "identified_on": decisions[decisions["decision"] == "identified"]
        .groupby("case_id")["decided_on"].min(),
        "reflection_started_on": periods.groupby("case_id")["starts_on"].min(),
        "permit_granted_on": permits[permits["status"].isin(["granted", "renewed", "expired"])]
        .groupby("case_id")["decided_on"].min(),
    }
    for name, values in firsts.items():
        cases = cases.merge(values.rename(name), left_on="case_id", right_index=True,
                            how="left")

    case_facts = cases[["case_id", "case_number", "person_key", "is_child", "majority"]]
    in_year = cases[(cases["first_contact_on"] >= first) & (cases["first_contact_on"] <= last)]

    services = t["services_service"].rename(columns={"id": "service_id"})
    sent = referrals[(referrals["sent_on"] >= first) & (referrals["sent_on"] <= last)]
    sent = sent.merge(services[["service_id", "service_type"]], on="service_id")
    sent = sent.merge(case_facts, on="case_id")

    assistance = t["referrals_assistance"].copy()
    assistance["delivered_on"] = to_day(assistance["delivered_on"])
    assistance = assistance[(assistance["delivered_on"] >= first)
                            & (assistance["delivered_on"] <= last)]
    assistance = assistance.merge(referrals[["referral_id", "case_id"]],
                                  left_on="referral_id", right_on="referral_id")
    # Outside OpenNRM, "assistance delivered" is the outcome the referring agency records.
    delivered = referrals[referrals["external"].astype(bool)
                          & (referrals["state"] == "completed")].copy()
    delivered["delivered_on"] = utc_day(delivered["ended_at"])
    delivered = delivered[(delivered["delivered_on"] >= first)
                          & (delivered["delivered_on"] <= last)]
    delivered = delivered.merge(services[["service_id", "service_type"]], on="service_id")
    assistance = pd.concat([assistance, delivered[["case_id", "service_type", "delivered_on"]]],
                           ignore_index=True)
    assistance = assistance.merge(case_facts, on="case_id")

    closures = cases[(cases["closed_on"] >= first) & (cases["closed_on"] <= last)]

    returns = t["protection_returnplan"].copy()
    returns["returned_on"] = to_day(returns["returned_on"])
    returns = returns[(returns["returned_on"] >= first) & (returns["returned_on"] <= last)]
    returns["risk_assessed"] = returns["risk_assessed_on"].notna()
    returns = returns.merge(case_facts, on="case_id")

    decided = decisions[(decisions["decided_on"] >= first) & (decisions["decided_on"] <= last)]
    decided = decided.merge(case_facts, on="case_id")
    decided = decided.merge(agency[["agency_id", "agency_type"]],
                            left_on="deciding_agency_id", right_on="agency_id")

    # Transnational referrals offered (sent or received) in the period, by partner country.
    trm = t["transnational_transnationalreferral"].rename(columns={"id": "referral_id"})
    trm["offered_on"] = utc_day(trm["created_at"])
    trm = trm[(trm["offered_on"] >= first) & (trm["offered_on"] <= last)].copy()
    partners = t["transnational_partner"].rename(columns={"id": "partner_id",
                                                          "country": "partner_country"})
    trm = trm.merge(partners[["partner_id", "partner_country"]], on="partner_id")
    trm["direction"] = trm["direction"].map({"out": "sent", "in": "received"})
    preview = trm["preview"].apply(parse_object)
    trm["risk_assessed"] = preview.apply(
        lambda v: v.get("risk_assessment_attached") is True).astype(bool)
    trm["outcome"] = np.select(
        [trm["status"] == "declined", trm["decided_at"].notna(),
         trm["status"].isin(["withdrawn", "erased"])],
        ["declined", "accepted", "withdrawn"], default="waiting")

    frames = {"cases": in_year, "referrals": sent, "assistance": assistance,
              "closures": closures, "returns": returns, "decisions": decided,
              "transnational": trm}
    frames.update(justice_frames(t, decisions, case_facts, first, last))
    return frames


def justice_frames(t: dict[str, pd.DataFrame], decisions: pd.DataFrame,
                   case_facts: pd.DataFrame, first, last) -> dict:
    """Offences, suspected, prosecuted and convicted persons, and the identified victims
    with what their linked criminal cases reached."""
    from opennrm.core import codelists

    iccs = {code: entry.get("iccs", "")
            for code, entry in codelists.entries("offence_qualifications").items()}
    criminal = t["justice_criminalcase"].rename(columns={"id": "criminal_case_id"})
    criminal["opened_on"] = to_day(criminal["opened_on"])
    criminal["iccs"] = criminal["legal_qualification"].map(iccs).fillna("")
    criminal["main_form"] = criminal["exploitation_form"]
    offences = criminal[(criminal["opened_on"] >= first) & (criminal["opened_on"] <= last)]
    offences = offences.rename(columns={"criminal_case_id": "case_id"})

    persons = t["justice_suspectedperson"].rename(columns={"id": "suspect_id"})
    # One offender: the same non-empty blind index, keyed by the smallest suspect id.
    smallest = persons[persons["name_index"] != ""].groupby("name_index")["suspect_id"].min()
    persons["person_key"] = persons["name_index"].map(smallest).fillna(
        persons["suspect_id"]).astype("int64")
    persons["age"] = persons["age"].astype("float64")
    persons["majority"] = np.where(persons["age"].isna(), "",
                                   np.where(persons["age"] < 18, "child", "adult"))
    persons["citizenships"] = persons["citizenships"].apply(parse_list)
    persons["citizenship"] = persons["citizenships"].apply(lambda v: v[0] if v else "")
    persons = persons.merge(criminal[["criminal_case_id", "iccs", "main_form"]],
                            on="criminal_case_id")
    persons["suspected_on"] = to_day(persons["suspected_on"])
    persons["prosecuted_on"] = to_day(persons["prosecuted_on"])
    persons["convicted_on"] = to_day(persons["outcome_on"].where(
        persons["outcome"] == "convicted"))
    common = ["suspect_id", "person_key", "iccs", "main_form", "gender", "age", "majority",
              "citizenship"]

    def of_period(column: str) -> pd.DataFrame:
        return persons[(persons[column] >= first) & (persons[column] <= last)][
            [*common, column]]

    identified = (decisions[decisions["decision"] == "identified"]
                  .groupby("case_id")["decided_on"].min().rename("identified_on").reset_index())
    identified = identified[(identified["identified_on"] >= first)
                            & (identified["identified_on"] <= last)]
    identified = identified.merge(case_facts, on="case_id")
    links = t["justice_victimlink"][["case_id", "criminal_case_id"]]
    stages = t["justice_criminalcasestage"].copy()
    stages["reached_on"] = to_day(stages["reached_on"])
    reached = links.merge(stages, on="criminal_case_id")
    indicted = (reached[reached["stage"].isin(INDICTED_STAGES)]
                .groupby("case_id")["reached_on"].min().rename("indicted_on"))
    judged = reached[reached["stage"] == "first_instance_judgement"].merge(
        identified[["case_id", "identified_on"]], on="case_id")
    judged = (judged[judged["reached_on"] >= judged["identified_on"]]
              .groupby("case_id")["reached_on"].min().rename("judgement_on"))
    convicted = links.merge(persons[persons["outcome"] == "convicted"],
                            on="criminal_case_id")
    convicted = convicted.groupby("case_id")["person_key"].agg(
        lambda keys: sorted({str(key) for key in keys})).rename("convicted_persons")
    for values in (indicted, judged, convicted):
        identified = identified.merge(values, left_on="case_id", right_index=True, how="left")
    identified["convicted_persons"] = identified["convicted_persons"].apply(
        lambda v: v if isinstance(v, list) else [])
    for column in ("indicted_on", "judgement_on"):
        identified[column] = identified.groupby("person_key")[column].transform("min")
    return {"offences": offences, "suspects": of_period("suspected_on"),
            "prosecutions": of_period("prosecuted_on"),
            "convictions": of_period("convicted_on"), "identifications": identified}


# --- dimensions --------------------------------------------------------------------------

def expand(values: list, country: str, eu: frozenset) -> list:
    expanded = []
    for value in values:
        if value == "@national":
            expanded.append(country)
        elif value == "@eu":
            expanded.extend(sorted(eu - {country}))
        else:
            expanded.append(str(value).lower() if isinstance(value, bool) else value)
    return expanded


def is_list_column(series: pd.Series) -> bool:
    return len(series) > 0 and isinstance(series.iloc[0], list)


def categories(dimension: dict, population: pd.DataFrame) -> list[str]:
    from opennrm.core import codelists

    codes = []
    if "codelist" in dimension:
        codes = [entry["code"] for entry in codelists.load(dimension["codelist"])["codes"]]
        if "top" in dimension:
            values = population[dimension["column"]]
            if is_list_column(values):
                values = values.explode()
            values = values[values.notna() & (values != "")]
            counts = values.value_counts().rename("n").rename_axis("code").reset_index()
            counts = counts.sort_values(["n", "code"], ascending=[False, True])
            codes = list(counts["code"].head(dimension["top"])) + ["other"]
    codes += [entry["code"] for entry in dimension.get("categories", [])]
    if dimension.get("unknown", True) and "unknown" not in codes:
        codes.append("unknown")
    return codes


def categoriser(dimension: dict, codes: list[str], country: str, eu: frozenset):
    """A function from one value to its category code."""
    unknown = "unknown" if "unknown" in codes else None
    if "bins" in dimension:
        bins = dimension["bins"]

        def binned(value):
            if isinstance(value, tuple):  # (number, the `when_unknown` column's value)
                value, other = value
                if pd.isna(value):
                    return dimension["when_unknown"]["values"].get(other, unknown)
            if pd.isna(value):
                return unknown
            for low, high, code in bins:
                if low <= value <= high:
                    return code
            return unknown

        return binned
    mapping, other = {}, None
    if "codelist" in dimension:
        # Every code of the list is its own category; with `top`, the rest go to "other".
        mapping = {code: code for code in codes}
        if "top" in dimension:
            other = "other"
    for entry in dimension.get("categories", []):
        for value in expand(entry.get("values", []), country, eu):
            if value == "*":
                other = entry["code"]
            else:
                mapping[value] = entry["code"]
    fallback = other if other is not None else unknown

    def mapped(value):
        if isinstance(value, bool | np.bool_):
            value = str(bool(value)).lower()
        if value is None or value == "" or (not isinstance(value, str) and pd.isna(value)):
            return unknown
        return mapping.get(value, fallback)

    return mapped


def values_of(population: pd.DataFrame, dimension: dict) -> pd.Series:
    """The column a dimension reads; with `when_unknown`, pairs (number, other value)."""
    if "when_unknown" not in dimension:
        return population[dimension["column"]]
    pairs = zip(population[dimension["column"]],
                population[dimension["when_unknown"]["column"]], strict=True)
    return pd.Series(list(pairs), index=population.index, dtype=object)


def categorise(series: pd.Series, function) -> pd.Series:
    if is_list_column(series):
        def each(values):
            found = list(dict.fromkeys(function(value) for value in values))
            return found or [function(None)]

        return series.apply(each)
    return series.map(function)


# --- populations -------------------------------------------------------------------------

def apply_where(frame: pd.DataFrame, where: dict, country: str, eu: frozenset) -> pd.DataFrame:
    for column, condition in where.items():
        if condition == "set":
            frame = frame[frame[column].notna()]
        elif condition == "not set":
            frame = frame[frame[column].isna()]
        elif isinstance(condition, dict):
            values = expand(condition["not"], country, eu)
            frame = frame[~frame[column].isin(values) | frame[column].isna()]
        else:
            values = expand(condition, country, eu)
            if frame[column].dtype == bool:
                frame = frame[frame[column].map(lambda v: str(v).lower()).isin(values)]
            else:
                frame = frame[frame[column].isin(values)]
    return frame


def one_row_per_person(frame: pd.DataFrame, list_columns: list[str]) -> pd.DataFrame:
    """The person's earliest case; lists are the union over the person's cases."""
    tie = "case_number" if "case_number" in frame.columns else "suspect_id"
    order = [column for column in ORDER_COLUMNS if column in frame.columns][:1] + [tie]
    first = frame.sort_values(order, kind="stable").drop_duplicates("person_key").copy()
    for column in list_columns:
        values = frame[["person_key", column]].explode(column).dropna().drop_duplicates()
        union = values.groupby("person_key")[column].agg(list)
        first[column] = first["person_key"].map(union).apply(
            lambda v: v if isinstance(v, list) else [])
    return first


# --- tables ------------------------------------------------------------------------------

def quantile(days: pd.Series, q: float):
    days = days.dropna()
    return float(days.quantile(q, interpolation="nearest")) if len(days) else None


def statistic(part: pd.DataFrame, name: str, table: dict, figures: dict, row: str | None):
    if len(part) == 0:
        return None
    if name == "median":
        return quantile(part["_days"], 0.5)
    if name == "p90":
        return quantile(part["_days"], 0.9)
    if name == "share":
        return round(100.0 * part["_hit"].sum() / len(part), 1)
    if name == "ratio":
        values = part["_values"].explode().dropna()
        return round(values[values != ""].nunique() / len(part), 2)
    if name == "rate":
        group = table.get("population", "total")
        base = (figures["total"]["total"] if group == "total" or row is None
                else figures.get(group, {}).get(row))
        return round(len(part) * 100_000 / base, 2) if base else None
    raise ValueError(name)


def compute_table(table: dict, definition: dict, frames: dict, figures: dict,
                  country: str, eu: frozenset) -> dict:
    dimensions = definition.get("dimensions", {})
    row_dim = dimensions[table["rows"]]
    col_dim = dimensions.get(table["columns"]) if table.get("columns") else None
    unit = table.get("unit", "persons")
    key = UNIT_KEYS[unit]

    frame = apply_where(frames[table["frame"]], table.get("where", {}), country, eu)
    if unit == "persons" and table.get("count_persons") != "per_category":
        lists = [dim["column"] for dim in (row_dim, col_dim)
                 if dim and is_list_column(frame[dim["column"]])]
        if "ratio" in table:
            lists.append(table["ratio"]["column"])  # the union over the person's cases
        population = one_row_per_person(frame, lists)
    else:
        population = frame.reset_index(drop=True)
        population["_row"] = population.index

    rows = categories(row_dim, population)
    population["_r"] = categorise(values_of(population, row_dim),
                                  categoriser(row_dim, rows, country, eu))
    columns = ["total"]
    if col_dim:
        columns = categories(col_dim, population)
        population["_c"] = categorise(values_of(population, col_dim),
                                      categoriser(col_dim, columns, country, eu))
    else:
        population["_c"] = "total"

    if table.get("kind", "count") == "count":
        cells = population[[key, "_r", "_c"]].explode("_r").explode("_c")
        by_cell = cells.groupby(["_r", "_c"])[key].nunique().to_dict()
        by_row = cells.groupby("_r")[key].nunique().to_dict()
        by_column = cells.groupby("_c")[key].nunique().to_dict()
        return {"rows": rows, "columns": columns,
                "cells": [[by_cell.get((r, c), 0) for c in columns] for r in rows],
                "row_totals": [by_row.get(r, 0) for r in rows],
                "column_totals": [by_column.get(c, 0) for c in columns],
                "total": population[key].nunique()}

    # Indicator: rows of one dimension, columns are statistics.
    names = table["statistics"]
    if "measure" in table:
        measure = table["measure"]
        population["_days"] = (population[measure["to"]]
                               - population[measure["from"]]).dt.days
    if "share" in table:
        share = table["share"]
        if share.get("values") is None:
            population["_hit"] = population[share["column"]].notna()
        else:
            population["_hit"] = population[share["column"]].isin(
                expand(share["values"], country, eu))
    if "ratio" in table:
        population["_values"] = population[table["ratio"]["column"]]
    population = population.explode("_r")
    parts = {r: population[population["_r"] == r] for r in rows}
    return {"rows": rows, "columns": list(names),
            "cells": [[statistic(parts[r], s, table, figures, r) for s in names] for r in rows],
            "row_totals": [len(parts[r]) for r in rows],
            "column_totals": [statistic(population, s, table, figures, None) for s in names],
            "total": len(population)}


def compute_all(connection, start: date, end: date) -> dict[str, dict]:
    """Every table of the five table sets: {"set.table": {rows, columns, cells, …}}."""
    from django.conf import settings

    country = settings.OPENNRM_COUNTRY
    figures = load_toml("population")
    frames = build_frames(read_tables(connection), start, end)
    results = {}
    for name in TABLE_SETS:
        definition = load_toml(name)
        for table in definition["tables"]:
            results[f"{name}.{table['key']}"] = compute_table(
                table, definition, frames, figures, country, EU_MEMBERS)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--year", type=int, default=2025)
    args = parser.parse_args()
    os.environ.setdefault("OPENNRM_CLI", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opennrm.settings")
    import django

    django.setup()
    from django.db import connection

    connection.ensure_connection()
    began = time.perf_counter()
    results = compute_all(connection.connection, date(args.year, 1, 1),
                          date(args.year, 12, 31))
    seconds = time.perf_counter() - began
    for key, table in results.items():
        print(f"{key}: total {table['total']}")
    print(f"{len(results)} tables in {seconds:.2f} s")


if __name__ == "__main__":
    main()
