"""The statistical frames: narrow, de-identified tables read from the database in SQL.

Each frame is a Polars DataFrame with no identity field: no name, birth date, document,
contact or free text, ever. `person_key` is the statistical person (cases linked as the
same person share it, see `cases.same_person`); `case_id` is an internal key that never
leaves the node (the research extract drops both).

The SQL is the same on SQLite and PostgreSQL but for the few functions written per
dialect below. On PostgreSQL the rows come through COPY … TO STDOUT as CSV, which is
several times faster than fetching a million rows as Python tuples.

Frames (all dates are `pl.Date`):

* cases — one row per case first contacted in the period: case_id, case_order,
  person_key, agency_type, first_contact_on, gender, birth_year, age, age_band, is_child,
  majority,
  citizenships, exploitation_forms, labour_sector, exploitation_countries,
  recruitment_countries, means_of_control, recruiter_relation, first_contact_place,
  referral_source, victim_status,
  victim_status_decided_on, status, closure_reason, closed_on, first_referral_on,
  identified_on, reflection_started_on, permit_granted_on.
* referrals — one row per referral sent in the period: referral_id, case_id,
  person_key, service_type, state, sent_on, answered_on, is_child, majority, external (to
  a service outside OpenNRM, recorded by the referring agency; its state follows the outcome
  it recorded).
* assistance — one row per assistance delivered in the period: case_id, person_key,
  service_type, delivered_on, is_child, majority. A referral outside OpenNRM recorded as
  "assistance delivered" counts as one, of its service's type, on the day it was recorded.
* closures — one row per case closed in the period: case_id, person_key, status,
  closure_reason, closed_on, is_child, majority.
* returns — one row per return carried out in the period: case_id, person_key,
  destination_country, returned_on, risk_assessed, is_child, majority.
* decisions — one row per formal identification decision in the period: case_id,
  person_key, decision, decided_on, agency_type, is_child, majority.
* transnational — one row per transnational referral offered in the period, sent to or
  received from a partner node (the `transnational` app's tables, read by name: statistics
  does not import that app): referral_id, case_id (this node's case: the one sent, or the
  one registered on acceptance; else empty), direction (sent, received), partner_country,
  stage, mode, outcome (accepted: the partner or this node accepted it, whatever came
  after; declined; withdrawn: consent withdrawn before a decision; waiting), risk_assessed
  (the offer said the joint risk assessment was attached), offered_on, is_child.

The criminal-justice frames read the `justice` app's tables by name in SQL, as the
transnational frame does (statistics does not import that app). They hold no identity and
no file number: the suspect's sex, age when first suspected and citizenships, and the
criminal case's legal qualification, its ICCS code (`iccs`, from the code list
offence_qualifications) and its form of exploitation (`main_form`, one value).

* offences — one row per criminal case opened in the period: case_id (the criminal case,
  never a victim's case), legal_qualification, iccs, main_form, opened_on.
* suspects, prosecutions, convictions — one row per suspected person recorded in a
  criminal case, when the person was first suspected (suspected_on), indicted
  (prosecuted_on), or convicted (outcome "convicted", convicted_on: the outcome's date) in
  the period: suspect_id, case_id (the criminal case), person_key, legal_qualification,
  iccs, main_form, gender, age, majority, citizenships, citizenship, role and the date.
  `person_key` is the offender's statistical person: suspects recorded in several criminal
  cases with the same non-empty blind index of name and birth date (`name_index`) are one
  person, keyed by the smallest suspect id among them; a suspect without one is a person
  of their own (their id).
  `majority` is "child" under 18, "adult" at 18 or over, "" with no age recorded.
* identifications — one row per victim's case first formally identified (decision
  "identified") in the period, with what the criminal cases linked to the person's cases
  of this frame (`justice_victimlink`, whatever the offence) reached by the time of
  computing: case_id, case_order, person_key, identified_on, is_child, majority,
  indicted_on (the first day one of them reached the indictment or a later stage of the
  trial), judgement_on (the first first-instance judgement given on or after the day
  the case was identified) and convicted_persons (the offenders' `person_key`s, as text,
  convicted in them). A person's cases share indicted_on and judgement_on (the earliest of
  their cases').

One age rule (`cases.age`, docs/statistics.md "Age"): `age` is the case's age at first
contact (exact from the birth date, else the youngest the birth year allows), `is_child`
the case's child flag, and `majority` "child" (the flag), "adult" (not the flag, and an age
or "adult, exact age unknown" recorded) or "" (nothing recorded: Unknown). One tie rule:
`case_order` is the rank of the case number among the frame's cases, so that a person's
cases with the same date are taken in case-number order (the number itself stays out of
the frame).
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time, timedelta

import polars as pl
from django.db import connection, transaction

from opennrm.core import codelists

READ_THREADS = 3
SLOWEST = ("_case_firsts", "_case_details", "assistance", "referrals")

LIST_COLUMNS = ("citizenships", "exploitation_forms", "exploitation_countries",
                "recruitment_countries", "means_of_control")

CASE_SCHEMA = {
    "case_id": pl.Int64, "case_order": pl.Int64, "person_key": pl.Int64,
    "agency_type": pl.Utf8,
    "first_contact_on": pl.Date, "gender": pl.Utf8, "birth_year": pl.Int32,
    "age": pl.Int32, "age_band": pl.Utf8, "is_child": pl.Boolean, "majority": pl.Utf8,
    "citizenships": pl.List(pl.Utf8), "exploitation_forms": pl.List(pl.Utf8),
    "labour_sector": pl.Utf8, "exploitation_countries": pl.List(pl.Utf8),
    "recruitment_countries": pl.List(pl.Utf8), "means_of_control": pl.List(pl.Utf8),
    "recruiter_relation": pl.Utf8, "first_contact_place": pl.Utf8,
    "referral_source": pl.Utf8, "victim_status": pl.Utf8,
    "victim_status_decided_on": pl.Date, "status": pl.Utf8, "closure_reason": pl.Utf8,
    "closed_on": pl.Date, "first_referral_on": pl.Date, "identified_on": pl.Date,
    "reflection_started_on": pl.Date, "permit_granted_on": pl.Date,
}


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _date(expression: str) -> str:
    """The date (UTC) of a timestamp column, as text YYYY-MM-DD."""
    if _is_postgres():
        return f"to_char(({expression}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    return f"substr({expression}, 1, 10)"


def _text(expression: str) -> str:
    """A JSON or date column as text (PostgreSQL would hand jsonb over as lists)."""
    # SQLite: the cast keeps Python's sqlite3 from turning declared date columns into dates.
    return f"({expression})::text" if _is_postgres() else f"CAST({expression} AS TEXT)"


def _bool(expression: str) -> str:
    return f"CASE WHEN {expression} THEN 1 ELSE 0 END"


def _person_key() -> str:
    return "COALESCE(p.statistical_person_id, p.id)"


def _majority() -> str:
    """Child, adult or "" (unknown) by the case's flag and age (`c` the case, `p` the
    person): the same in every frame."""
    return ("CASE WHEN c.is_child THEN 'child' WHEN c.age_at_first_contact IS NOT NULL "
            "OR p.age_uncertainty = 'adult' THEN 'adult' ELSE '' END")


def _with_case_order(frame: pl.DataFrame) -> pl.DataFrame:
    """Replace the read `case_number` with its rank (`case_order`): the tie rule."""
    return frame.with_columns(
        pl.col("case_number").rank("dense").cast(pl.Int64).alias("case_order")
    ).drop("case_number")


def _read(sql: str, params: list, schema: dict) -> pl.DataFrame:
    """Run `sql` and return its rows as a frame of `schema` (dates and lists parsed)."""
    raw_schema = {name: (pl.Int64 if dtype in (pl.Int64, pl.Int32, pl.Boolean) else pl.Utf8)
                  for name, dtype in schema.items()}
    if _is_postgres():
        with transaction.atomic(), connection.cursor() as cursor:
            # The planner's cost for a year of a large node is above the JIT threshold, and
            # compiling the query took longer than running it (2.5 of 2.9 s at 200,000 cases).
            cursor.execute("SET LOCAL jit = off")
            # COPY takes no bind parameters: interpolate them as quoted literals. They are
            # dates produced by the code, never text a user typed.
            literal = cursor.mogrify(sql, params) if params else sql
            buffer = io.BytesIO()
            with cursor.cursor.copy(f"COPY ({literal}) TO STDOUT WITH (FORMAT csv)") as copy:
                for block in copy:
                    buffer.write(block)
        buffer.seek(0)
        if buffer.getbuffer().nbytes == 0:
            frame = pl.DataFrame(schema=raw_schema)
        else:
            frame = pl.read_csv(buffer, has_header=False, new_columns=list(raw_schema),
                                schema_overrides=raw_schema, missing_utf8_is_empty_string=True)
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        frame = pl.DataFrame(rows, schema=raw_schema, orient="row")
    return _parse(frame, schema)


def _parse(frame: pl.DataFrame, schema: dict) -> pl.DataFrame:
    columns = []
    for name, dtype in schema.items():
        column = pl.col(name)
        if dtype == pl.Date:
            column = pl.when(column.str.len_chars() >= 10).then(
                column.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False))
        elif isinstance(dtype, pl.List):
            column = column.fill_null("[]").str.json_decode(pl.List(pl.Utf8))
        elif dtype == pl.Boolean:
            column = column.cast(pl.Boolean)
        elif dtype == pl.Utf8:
            column = column.fill_null("")
        columns.append(column.cast(dtype).alias(name))
    return frame.select(columns)


FIRSTS = ("first_referral_on", "identified_on", "reflection_started_on", "permit_granted_on")


def _case_details(start: date, end: date) -> pl.DataFrame:
    """The cases of the period with their person: everything but `FIRSTS`."""
    sql = f"""
        SELECT c.id, {_person_key()}, a.agency_type, {_text('c.first_contact_on')},
               p.gender, p.birth_year, c.age_at_first_contact, c.age_band,
               {_bool('c.is_child')}, {_majority()},
               {_text('p.citizenships')}, {_text('c.exploitation_forms')}, c.labour_sector,
               {_text('c.exploitation_countries')}, {_text('c.recruitment_countries')},
               {_text('c.means_of_control')}, c.recruiter_relation,
               c.first_contact_place, c.referral_source, c.victim_status,
               {_text('c.victim_status_decided_on')}, c.status, c.closure_reason,
               {_date('c.closed_at')}, c.case_number
        FROM cases_case c
        JOIN cases_person p ON p.id = c.person_id
        JOIN accounts_agency a ON a.id = c.owner_agency_id
        WHERE c.first_contact_on >= %s AND c.first_contact_on <= %s
    """
    schema = {name: dtype for name, dtype in CASE_SCHEMA.items()
              if name not in FIRSTS and name != "case_order"}
    return _with_case_order(_read(sql, [start, end], {**schema, "case_number": pl.Utf8}))


def _case_firsts(start: date, end: date) -> pl.DataFrame:
    """For each case of the period: its first referral, formal identification, reflection
    period and residence permit granted (whenever they happened)."""
    sql = f"""
        SELECT c.id,
               (SELECT {_date('MIN(r.sent_at)')} FROM referrals_referral r
                 WHERE r.case_id = c.id),
               (SELECT {_text('MIN(d.decided_on)')} FROM screening_identificationdecision d
                 WHERE d.case_id = c.id AND d.decision = 'identified'),
               (SELECT {_text('MIN(rp.starts_on)')} FROM protection_reflectionperiod rp
                 WHERE rp.case_id = c.id),
               (SELECT {_text('MIN(pm.decided_on)')} FROM protection_residencepermit pm
                 WHERE pm.case_id = c.id AND pm.status IN ('granted', 'renewed', 'expired'))
        FROM cases_case c
        WHERE c.first_contact_on >= %s AND c.first_contact_on <= %s
    """
    return _read(sql, [start, end], {"case_id": pl.Int64, **{name: pl.Date for name in FIRSTS}})


def _join_cases(details: pl.DataFrame, firsts: pl.DataFrame) -> pl.DataFrame:
    frame = details.join(firsts, on="case_id", how="left").select(list(CASE_SCHEMA))
    # The first value recorded stands for the person where a standard wants one value.
    return frame.with_columns(
        pl.col("citizenships").list.first().fill_null("").alias("citizenship"),
        pl.col("exploitation_forms").list.first().fill_null("").alias("main_form"),
        pl.col("exploitation_countries").list.first().fill_null("")
        .alias("country_of_exploitation"),
    )


def cases_frame(start: date, end: date) -> pl.DataFrame:
    """One row per case first contacted between `start` and `end` (inclusive)."""
    return _join_cases(_case_details(start, end), _case_firsts(start, end))


def referrals_frame(start: date, end: date) -> pl.DataFrame:
    """One row per referral sent between `start` and `end`."""
    sql = f"""
        SELECT r.id, r.case_id, {_person_key()}, s.service_type, r.state,
               {_date('r.sent_at')}, {_date('r.answered_at')}, {_bool('c.is_child')},
               {_majority()}, {_bool('r.external')}, c.case_number
        FROM referrals_referral r
        JOIN services_service s ON s.id = r.service_id
        JOIN cases_case c ON c.id = r.case_id
        JOIN cases_person p ON p.id = c.person_id
        WHERE r.sent_at >= %s AND r.sent_at < %s
    """
    schema = {"referral_id": pl.Int64, "case_id": pl.Int64, "person_key": pl.Int64,
              "service_type": pl.Utf8, "state": pl.Utf8, "sent_on": pl.Date,
              "answered_on": pl.Date, "is_child": pl.Boolean, "majority": pl.Utf8,
              "external": pl.Boolean, "case_number": pl.Utf8}
    return _with_case_order(_read(sql, [_start_of(start), _start_of_next(end)], schema))


def assistance_frame(start: date, end: date) -> pl.DataFrame:
    """One row per assistance delivered between `start` and `end`: recorded by the receiving
    agency, or outside OpenNRM recorded by the referring agency as the referral's outcome."""
    sql = f"""
        SELECT r.case_id, {_person_key()}, x.service_type, {_text('x.delivered_on')},
               {_bool('c.is_child')}, {_majority()}, c.case_number
        FROM referrals_assistance x
        JOIN referrals_referral r ON r.id = x.referral_id
        JOIN cases_case c ON c.id = r.case_id
        JOIN cases_person p ON p.id = c.person_id
        WHERE x.delivered_on >= %s AND x.delivered_on <= %s
        UNION ALL
        SELECT r.case_id, {_person_key()}, s.service_type, {_date('r.ended_at')},
               {_bool('c.is_child')}, {_majority()}, c.case_number
        FROM referrals_referral r
        JOIN services_service s ON s.id = r.service_id
        JOIN cases_case c ON c.id = r.case_id
        JOIN cases_person p ON p.id = c.person_id
        WHERE r.external AND r.state = 'completed' AND r.ended_at >= %s AND r.ended_at < %s
    """
    schema = {"case_id": pl.Int64, "person_key": pl.Int64, "service_type": pl.Utf8,
              "delivered_on": pl.Date, "is_child": pl.Boolean, "majority": pl.Utf8,
              "case_number": pl.Utf8}
    return _with_case_order(_read(sql, [start, end, _start_of(start), _start_of_next(end)],
                                  schema))


def closures_frame(start: date, end: date) -> pl.DataFrame:
    """One row per case closed between `start` and `end`."""
    sql = f"""
        SELECT c.id, {_person_key()}, c.status, c.closure_reason, {_date('c.closed_at')},
               {_bool('c.is_child')}, {_majority()}, c.case_number
        FROM cases_case c
        JOIN cases_person p ON p.id = c.person_id
        WHERE c.closed_at >= %s AND c.closed_at < %s
    """
    schema = {"case_id": pl.Int64, "person_key": pl.Int64, "status": pl.Utf8,
              "closure_reason": pl.Utf8, "closed_on": pl.Date, "is_child": pl.Boolean,
              "majority": pl.Utf8, "case_number": pl.Utf8}
    return _with_case_order(_read(sql, [_start_of(start), _start_of_next(end)], schema))


def returns_frame(start: date, end: date) -> pl.DataFrame:
    """One row per return carried out between `start` and `end`."""
    sql = f"""
        SELECT c.id, {_person_key()}, rp.destination_country, {_text('rp.returned_on')},
               {_bool('rp.risk_assessed_on IS NOT NULL')}, {_bool('c.is_child')},
               {_majority()}, c.case_number
        FROM protection_returnplan rp
        JOIN cases_case c ON c.id = rp.case_id
        JOIN cases_person p ON p.id = c.person_id
        WHERE rp.returned_on >= %s AND rp.returned_on <= %s
    """
    schema = {"case_id": pl.Int64, "person_key": pl.Int64, "destination_country": pl.Utf8,
              "returned_on": pl.Date, "risk_assessed": pl.Boolean, "is_child": pl.Boolean,
              "majority": pl.Utf8, "case_number": pl.Utf8}
    return _with_case_order(_read(sql, [start, end], schema))


def decisions_frame(start: date, end: date) -> pl.DataFrame:
    """One row per formal identification decision taken between `start` and `end`."""
    sql = f"""
        SELECT c.id, {_person_key()}, d.decision, {_text('d.decided_on')}, a.agency_type,
               {_bool('c.is_child')}, {_majority()}, c.case_number
        FROM screening_identificationdecision d
        JOIN cases_case c ON c.id = d.case_id
        JOIN cases_person p ON p.id = c.person_id
        JOIN accounts_agency a ON a.id = d.deciding_agency_id
        WHERE d.decided_on >= %s AND d.decided_on <= %s
    """
    schema = {"case_id": pl.Int64, "person_key": pl.Int64, "decision": pl.Utf8,
              "decided_on": pl.Date, "agency_type": pl.Utf8, "is_child": pl.Boolean,
              "majority": pl.Utf8, "case_number": pl.Utf8}
    return _with_case_order(_read(sql, [start, end], schema))


def _json_flag(column: str, key: str) -> str:
    """A true/false member of a JSON object column, as a condition (false when absent)."""
    if _is_postgres():
        return f"COALESCE(({column}->>'{key}')::boolean, false)"
    return f"COALESCE(json_extract({column}, '$.{key}'), 0) = 1"


def transnational_frame(start: date, end: date) -> pl.DataFrame:
    """One row per transnational referral offered (sent or received) between `start` and
    `end`: no case, person or identity, only the partner's country and the referral's
    pseudonymised preview facts."""
    sql = f"""
        SELECT r.id, r.case_id, CASE WHEN r.direction = 'out' THEN 'sent' ELSE 'received' END,
               pt.country, r.stage, r.mode,
               CASE WHEN r.status = 'declined' THEN 'declined'
                    WHEN r.decided_at IS NOT NULL THEN 'accepted'
                    WHEN r.status IN ('withdrawn', 'erased') THEN 'withdrawn'
                    ELSE 'waiting' END,
               {_bool(_json_flag('r.preview', 'risk_assessment_attached'))},
               {_date('r.created_at')}, {_bool(_json_flag('r.preview', 'is_child'))}
        FROM transnational_transnationalreferral r
        JOIN transnational_partner pt ON pt.id = r.partner_id
        WHERE r.created_at >= %s AND r.created_at < %s
    """
    schema = {"referral_id": pl.Int64, "case_id": pl.Int64, "direction": pl.Utf8,
              "partner_country": pl.Utf8,
              "stage": pl.Utf8, "mode": pl.Utf8, "outcome": pl.Utf8,
              "risk_assessed": pl.Boolean, "offered_on": pl.Date, "is_child": pl.Boolean}
    return _read(sql, [_start_of(start), _start_of_next(end)], schema)


# --- criminal justice (the `justice` app's tables, read by name) ---------------------------

# The stages of a criminal case at the indictment or later in the trial (code list
# criminal_case_stages); a case closed without prosecution never reached them.
INDICTED_STAGES = ("indictment", "first_instance_judgement", "appeal", "final_judgement")
JUDGEMENT_STAGE = "first_instance_judgement"

OFFENDER_SCHEMA = {
    "suspect_id": pl.Int64, "case_id": pl.Int64, "person_key": pl.Int64,
    "legal_qualification": pl.Utf8,
    "main_form": pl.Utf8, "gender": pl.Utf8, "age": pl.Int32,
    "citizenships": pl.List(pl.Utf8), "role": pl.Utf8,
}


def _offender_key(alias: str) -> str:
    """The offender's statistical person: the smallest suspect id with the same non-empty
    blind index, else the suspect's own id."""
    return (f"CASE WHEN {alias}.name_index <> '' THEN (SELECT MIN(o.id) FROM "
            f"justice_suspectedperson o WHERE o.name_index = {alias}.name_index) "
            f"ELSE {alias}.id END")


def _with_iccs(frame: pl.DataFrame) -> pl.DataFrame:
    """The ICCS code of each legal qualification, from the code list (a country maps its
    criminal code there): "" for a code the list no longer has."""
    iccs = {code: entry.get("iccs", "")
            for code, entry in codelists.entries("offence_qualifications").items()}
    return frame.with_columns(
        pl.col("legal_qualification").replace_strict(iccs, default="", return_dtype=pl.Utf8)
        .alias("iccs"))


def _offenders(date_column: str, condition: str, start: date, end: date,
               name: str) -> pl.DataFrame:
    """The suspected persons whose `date_column` falls in the period and who meet
    `condition` (code, never user input), the date named `name`."""
    sql = f"""
        SELECT s.id, cc.id, {_offender_key('s')}, cc.legal_qualification,
               cc.exploitation_form,
               s.gender, s.age, {_text('s.citizenships')}, s.role, {_text(date_column)}
        FROM justice_suspectedperson s
        JOIN justice_criminalcase cc ON cc.id = s.criminal_case_id
        WHERE {condition} AND {date_column} >= %s AND {date_column} <= %s
    """
    frame = _read(sql, [start, end], {**OFFENDER_SCHEMA, name: pl.Date})
    return _with_iccs(frame).with_columns(
        pl.when(pl.col("age").is_null()).then(pl.lit(""))
        .when(pl.col("age") < 18).then(pl.lit("child")).otherwise(pl.lit("adult"))
        .alias("majority"),
        pl.col("citizenships").list.first().fill_null("").alias("citizenship"),
    )


def suspects_frame(start: date, end: date) -> pl.DataFrame:
    """One row per suspected person first suspected between `start` and `end`."""
    return _offenders("s.suspected_on", "1 = 1", start, end, "suspected_on")


def prosecutions_frame(start: date, end: date) -> pl.DataFrame:
    """One row per suspected person indicted between `start` and `end`."""
    return _offenders("s.prosecuted_on", "1 = 1", start, end, "prosecuted_on")


def convictions_frame(start: date, end: date) -> pl.DataFrame:
    """One row per suspected person convicted between `start` and `end` (the outcome's
    date)."""
    return _offenders("s.outcome_on", "s.outcome = 'convicted'", start, end, "convicted_on")


def offences_frame(start: date, end: date) -> pl.DataFrame:
    """One row per criminal case opened between `start` and `end`."""
    sql = f"""
        SELECT cc.id, cc.legal_qualification, cc.exploitation_form, {_text('cc.opened_on')}
        FROM justice_criminalcase cc
        WHERE cc.opened_on >= %s AND cc.opened_on <= %s
    """
    schema = {"case_id": pl.Int64, "legal_qualification": pl.Utf8, "main_form": pl.Utf8,
              "opened_on": pl.Date}
    return _with_iccs(_read(sql, [start, end], schema))


def _placeholders(values) -> str:
    return ", ".join(["%s"] * len(values))


# Each victim's case with its first formal identification, whenever it was.
_IDENTIFIED = """(SELECT d.case_id, MIN(d.decided_on) AS identified_on
                  FROM screening_identificationdecision d
                  WHERE d.decision = 'identified' GROUP BY d.case_id)"""


def identifications_frame(start: date, end: date) -> pl.DataFrame:
    """One row per victim's case first formally identified between `start` and `end`, with
    what the criminal cases linked to it reached."""
    sql = f"""
        SELECT c.id, {_person_key()}, {_text('f.identified_on')}, {_bool('c.is_child')},
               {_majority()},
               (SELECT {_text('MIN(st.reached_on)')} FROM justice_victimlink vl
                  JOIN justice_criminalcasestage st ON st.criminal_case_id = vl.criminal_case_id
                 WHERE vl.case_id = c.id AND st.stage IN ({_placeholders(INDICTED_STAGES)})),
               (SELECT {_text('MIN(st.reached_on)')} FROM justice_victimlink vl
                  JOIN justice_criminalcasestage st ON st.criminal_case_id = vl.criminal_case_id
                 WHERE vl.case_id = c.id AND st.stage = %s
                   AND st.reached_on >= f.identified_on),
               c.case_number
        FROM cases_case c
        JOIN cases_person p ON p.id = c.person_id
        JOIN {_IDENTIFIED} f ON f.case_id = c.id
        WHERE f.identified_on >= %s AND f.identified_on <= %s
    """
    schema = {"case_id": pl.Int64, "person_key": pl.Int64, "identified_on": pl.Date,
              "is_child": pl.Boolean, "majority": pl.Utf8, "indicted_on": pl.Date,
              "judgement_on": pl.Date, "case_number": pl.Utf8}
    cases = _with_case_order(_read(sql, [*INDICTED_STAGES, JUDGEMENT_STAGE, start, end],
                                   schema))
    convicted_sql = f"""
        SELECT vl.case_id, {_text(_offender_key('s'))}
        FROM justice_victimlink vl
        JOIN justice_suspectedperson s ON s.criminal_case_id = vl.criminal_case_id
        JOIN {_IDENTIFIED} f ON f.case_id = vl.case_id
        WHERE s.outcome = 'convicted' AND f.identified_on >= %s AND f.identified_on <= %s
    """
    convicted = (_read(convicted_sql, [start, end], {"case_id": pl.Int64, "offender": pl.Utf8})
                 .group_by("case_id")
                 .agg(pl.col("offender").unique().sort().alias("convicted_persons")))
    # A person's cases together: the first indictment and judgement of any of them.
    return cases.join(convicted, on="case_id", how="left").with_columns(
        pl.col("convicted_persons").fill_null(pl.lit([], dtype=pl.List(pl.Utf8))),
        pl.col("indicted_on").min().over("person_key"),
        pl.col("judgement_on").min().over("person_key"),
    ).select(["case_id", "case_order", "person_key", "identified_on", "is_child", "majority",
              "indicted_on", "judgement_on", "convicted_persons"])


FRAMES = {
    "cases": cases_frame,
    "referrals": referrals_frame,
    "assistance": assistance_frame,
    "closures": closures_frame,
    "returns": returns_frame,
    "decisions": decisions_frame,
    "transnational": transnational_frame,
    "offences": offences_frame,
    "suspects": suspects_frame,
    "prosecutions": prosecutions_frame,
    "convictions": convictions_frame,
    "identifications": identifications_frame,
}


def read_frames(names, start: date, end: date) -> dict[str, pl.DataFrame]:
    """The frames `names` for the period, each read once.

    On PostgreSQL, outside a transaction, they are read side by side, each on a connection
    of its own (the server runs the queries on its cores; the CSV parsing releases Python's
    lock). Inside a transaction they are read one after the other on its connection: the
    other connections would not see what the transaction wrote.
    """
    names = sorted(set(names))
    if not _is_postgres() or connection.in_atomic_block or len(names) < 2:
        return {name: FRAMES[name](start, end) for name in names}
    # The cases frame is the longest to read: its two queries go side by side too.
    jobs = {name: FRAMES[name] for name in names if name != "cases"}
    if "cases" in names:
        jobs.update({"_case_details": _case_details, "_case_firsts": _case_firsts})

    def read(name: str) -> pl.DataFrame:
        try:
            return jobs[name](start, end)
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        # The slowest first, so that they do not wait for a free thread at the end.
        order = sorted(jobs, key=lambda name: name not in SLOWEST)
        frames = dict(zip(order, pool.map(read, order), strict=True))
    if "cases" in names:
        frames["cases"] = _join_cases(frames.pop("_case_details"), frames.pop("_case_firsts"))
    return frames


def _start_of(day: date) -> datetime | str:
    """Midnight UTC starting `day`, as the database compares timestamps. SQLite keeps them as
    text "YYYY-MM-DD HH:MM:SS[.ffffff]": a parameter with "+00:00" would sort after a
    timestamp of exactly midnight and put it in the day before."""
    if _is_postgres():
        return datetime.combine(day, time.min, tzinfo=UTC)
    return f"{day.isoformat()} 00:00:00"


def _start_of_next(day: date) -> datetime | str:
    return _start_of(day + timedelta(days=1))
