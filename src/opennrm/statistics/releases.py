"""Statistics as they leave the engine: disclosure control, releases and the privacy budget.

Nothing computed by `engine` is shown or published before `controlled()` has applied
disclosure control to it. A release freezes one table set for one period: the tables as
published, the controls, and a snapshot of the de-identified frames it was computed from,
so that it can be recomputed later (`verify_release`).

Differential privacy (optional, per release): the release's ε is split evenly over its
tables (sequential composition). Only tables that count persons additively get noise:
there one person changes one cell by one (sensitivity 1) and the totals are the sums of
the noisy cells. Tables that count cases, referrals or decisions, multi-valued tables and
indicator tables have no bounded per-person sensitivity here, so a DP release leaves them
out rather than publish them exactly.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import TYPE_CHECKING

import polars as pl
from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import translation

from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_event
from opennrm.reports.tables import period_label_of
from opennrm.statistics import disclosure, dp, engine, linked, policy
from opennrm.statistics import frames as sql_frames
from opennrm.statistics.access import ensure_can_publish_releases, ensure_can_view_statistics
from opennrm.statistics.models import PrivacyBudgetSpend, Release
from opennrm.statistics.tables import Table, TableSetResult

if TYPE_CHECKING:
    from opennrm.accounts.models import User
    from opennrm.statistics.extracts import Extract

DEFAULT_THRESHOLD = 5


class ReleaseError(ValueError):
    """A release cannot be made as asked (the message says why, for the user). When the
    controls are laxer than the node's policy, its cause is a `policy.PolicyError` naming
    the control."""


@dataclass(frozen=True)
class Controls:
    """Disclosure control of a release: threshold, rounding base, optional ε."""

    threshold: int = DEFAULT_THRESHOLD
    rounding: int = 0
    epsilon: float | None = None

    def __post_init__(self):
        if self.threshold < 1:
            raise ReleaseError("The threshold must be at least 1.")
        if self.rounding < 0:
            raise ReleaseError("The rounding base cannot be negative.")
        if self.epsilon is not None and self.epsilon <= 0:
            raise ReleaseError("ε must be greater than 0.")

    def to_dict(self) -> dict:
        return asdict(self)


def _enforce_policy(controls: Controls, node: policy.Policy | None = None) -> Controls:
    """`controls`, unless laxer than the node's disclosure policy: then ReleaseError."""
    node = node or policy.current_policy()
    try:
        policy.check_threshold(controls.threshold, node)
        policy.check_rounding(controls.rounding, node)
    except policy.PolicyError as error:
        raise ReleaseError(str(error)) from error
    return controls


def policy_controls(threshold: int | None = None, rounding: int | None = None,
                    epsilon: float | None = None) -> Controls:
    """Controls as asked, the node's policy filling in what is not: refused (ReleaseError)
    when laxer than the policy."""
    node = policy.current_policy()
    controls = Controls(threshold=node.threshold if threshold is None else threshold,
                        rounding=node.rounding if rounding is None else rounding,
                        epsilon=epsilon)
    return _enforce_policy(controls, node)


def privacy_budget_cap() -> float:
    """The most ε one dataset may spend on one period (OPENNRM_DP_BUDGET, default 1.0)."""
    return float(getattr(settings, "OPENNRM_DP_BUDGET", 1.0))


def epsilon_spent(dataset: str, start: date, end: date) -> float:
    """ε already spent on `dataset` by releases whose period overlaps this one."""
    spent = PrivacyBudgetSpend.objects.filter(
        dataset=dataset, period_start__lte=end, period_end__gte=start,
    ).aggregate(total=Sum("epsilon"))["total"]
    return float(spent or 0.0)


def _ensure_budget_left(dataset: str, start: date, end: date, epsilon: float) -> None:
    """ReleaseError unless `epsilon` more fits in the dataset's budget for the period. Call
    inside the transaction that records the spending: the dataset's ledger rows stay locked
    until it ends, so two releases cannot both take the last of the budget."""
    list(PrivacyBudgetSpend.objects.select_for_update().filter(dataset=dataset))
    try:
        dp.check_budget(epsilon_spent(dataset, start, end), epsilon, privacy_budget_cap())
    except dp.BudgetExceeded as error:
        raise ReleaseError(str(error)) from error


# --- disclosure control ------------------------------------------------------------------

def dp_eligible(table: Table) -> bool:
    return table.kind == "count" and table.unit == "persons" and table.additive


def controlled(result: TableSetResult, controls: Controls) -> TableSetResult:
    """One table set as it may be shown, protected on its own (see `controlled_together`
    for several sets published together): noise (if ε), suppression, rounding."""
    return controlled_together([result], controls)[0]


def controlled_together(results: list[TableSetResult], controls: Controls,
                        ) -> list[TableSetResult]:
    """Table sets published together, as they may be shown: noise (if ε), suppression
    made consistent across every table of every set (`linked`), rounding.

    Without noise, a count hidden in one table is hidden in every table that prints it,
    with the secondary suppression that needs, and the audit (`linked.audit`) passes.
    Noisy tables are each protected on their own: the noise protects them."""
    if controls.epsilon is not None:
        return [_controlled_alone(result, controls) for result in results]
    return protect_together(results, controls)[0]


def protect_together(results: list[TableSetResult], controls: Controls,
                     ) -> tuple[list[TableSetResult], linked.Protection]:
    """`controlled_together` without noise, with what the linked protection did and the
    audit of the published tables (rounding included)."""
    suppressed = [replace(result, controls=controls.to_dict(), tables=[
        disclosure.suppress_small_cells(table, controls.threshold)
        for table in result.tables]) for result in results]
    protection = linked.protect(suppressed, results, controls.threshold)
    published = []
    for result in suppressed:
        tables = []
        for table in result.tables:
            if controls.rounding > 1:
                table = disclosure.round_counts(table, controls.rounding)
            disclosure.assert_no_small_cells(table, controls.threshold)
            tables.append(_without_bases(table))
        published.append(replace(result, tables=tables))
    intervals = protection.intervals
    if controls.rounding > 1:
        # What a reader can work out from the rounded counts (never less than from exact).
        intervals = check_audit(published, results, controls)
    else:
        _refuse_failing(intervals)
    return published, replace(protection, intervals=intervals)


def check_audit(published: list[TableSetResult], exact: list[TableSetResult],
                controls: Controls) -> list[linked.Interval]:
    """The release audit of tables as they would be published (`linked.audit`): their
    intervals, or ReleaseError naming each hidden count a reader can narrow down too far,
    its interval and the protection required."""
    intervals = linked.audit(linked.build(published, exact), controls.threshold,
                             controls.rounding)
    _refuse_failing(intervals)
    return intervals


def _refuse_failing(intervals: list[linked.Interval]) -> None:
    failing = [interval for interval in intervals if not interval.ok]
    if failing:
        more = f" ({len(failing) - 5} more)" if len(failing) > 5 else ""
        raise ReleaseError("The release audit refuses these tables: a hidden count can be "
                           "narrowed down too far from the published ones. "
                           + "; ".join(interval.describe() for interval in failing[:5])
                           + more + ".")


def _controlled_alone(result: TableSetResult, controls: Controls) -> TableSetResult:
    """The table set as it may be shown, each table protected on its own: noise (if ε),
    suppression, rounding — in that order. (Releases before linked protection, and
    differentially private ones.)"""
    tables = result.tables
    notes = list(result.notes)
    if controls.epsilon is not None:
        eligible = [t for t in tables if dp_eligible(t)]
        if not eligible:
            raise ReleaseError("No table of this set can take differential privacy.")
        share = dp.split_epsilon(controls.epsilon, len(eligible))
        left_out = [t.title for t in tables if not dp_eligible(t)]
        tables = [dp.add_noise_to_table(t, share) for t in eligible]
        if left_out:
            notes.append("Left out of this differentially private release (no bounded "
                         "contribution per person): " + "; ".join(left_out) + ".")
    published = []
    for table in tables:
        table = disclosure.suppress_small_cells(table, controls.threshold)
        if controls.rounding > 1:
            table = disclosure.round_counts(table, controls.rounding)
        disclosure.assert_no_small_cells(table, controls.threshold)
        published.append(_without_bases(table))
    return replace(result, tables=published, controls=controls.to_dict(), notes=notes)


def _without_bases(table: Table) -> Table:
    """A table as it may be shown. An indicator table's bases (how many units each figure
    rests on: exact counts, often below the threshold) decide which figures are hidden;
    they are never shown themselves."""
    return replace(table, bases=None) if table.bases is not None else table


def as_published(result: dict) -> dict:
    """A stored release's tables without bases: releases published before bases were
    dropped kept them in `Release.result`; nothing reads them from there again."""
    return {**result, "tables": [{**table, "bases": None} if table.get("bases") else table
                                 for table in result.get("tables", [])]}


def _linked_keys(keys) -> list[str]:
    """The table sets protected together with `keys`: every set of the node (a count
    hidden in one must be hidden in all of them), `keys` first if unknown to the node."""
    for key in keys:
        engine.load_definition(key)  # KeyError for an unknown set
    return list(dict.fromkeys([*engine.table_set_keys(), *keys]))


def preview(user: User, key: str, start: date, end: date,
            controls: Controls | None = None) -> TableSetResult:
    """The disclosure-controlled tables for the statistics page, the exports and the API
    (not a release). Controls laxer than the node's policy are refused; none given are the
    policy's. The set is protected together with every other set of the period, so that
    what one set hides, no other prints."""
    return preview_all(user, [key], start, end, controls)[0]


def preview_all(user: User, keys, start: date, end: date,
                controls: Controls | None = None) -> list[TableSetResult]:
    """`preview` of several table sets."""
    ensure_can_view_statistics(user)
    return report(keys, start, end, controls, language=translation.get_language() or "en")


def report(keys, start: date, end: date, controls: Controls | None = None,
           *, language: str = "en") -> list[TableSetResult]:
    """Several table sets for one period, disclosure-controlled, for a report (no noise).
    Controls laxer than the node's policy are refused; none given are the policy's.

    The caller checks who asks: the pages and the API through `ensure_can_view_statistics`;
    the command line is the server operator's.
    """
    _check_period(start, end)
    # Noise spends budget: only a release may do it.
    controls = replace(_enforce_policy(controls) if controls else policy_controls(),
                       epsilon=None)
    everything = _linked_keys(keys)
    with translation.override(language):
        results = controlled_together(engine.compute_all(everything, start, end), controls)
    by_key = {result.key: result for result in results}
    return [by_key[key] for key in keys]


def _check_period(start: date, end: date) -> None:
    if end < start:
        raise ReleaseError("The period ends before it starts.")
    if (end - start).days > 366 * 10:
        raise ReleaseError("A period may be at most ten years long.")


# --- releases ----------------------------------------------------------------------------

def _snapshot(frames: dict[str, pl.DataFrame]) -> tuple[bytes, str]:
    """The frames as Parquet files in a zip, and a SHA-256 digest of their contents."""
    digest = hashlib.sha256()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(frames):
            data = io.BytesIO()
            frames[name].write_parquet(data, compression="zstd")
            payload = data.getvalue()
            digest.update(name.encode() + b"\0" + hashlib.sha256(payload).digest())
            info = zipfile.ZipInfo(f"{name}.parquet", date_time=(2000, 1, 1, 0, 0, 0))
            archive.writestr(info, payload)
    return buffer.getvalue(), digest.hexdigest()


def _frames_from_snapshot(snapshot: bytes) -> dict[str, pl.DataFrame]:
    frames = {}
    with zipfile.ZipFile(io.BytesIO(snapshot)) as archive:
        for name in archive.namelist():
            frames[name.removesuffix(".parquet")] = pl.read_parquet(archive.read(name))
    return frames


def _digest(result: TableSetResult) -> str:
    content = json.dumps(result.to_dict(), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def publish_release(user: User, key: str, start: date, end: date, controls: Controls,
                    channel: str = "web") -> Release:
    """Compute, control and freeze a release; spend its ε, refused beyond the budget."""
    ensure_can_publish_releases(user)
    _check_period(start, end)
    _enforce_policy(controls)
    with translation.override("en"), transaction.atomic():
        if controls.epsilon is not None:
            _ensure_budget_left(key, start, end, controls.epsilon)
        # Without noise, the set is protected together with every set of the node.
        together = [key] if controls.epsilon is not None else _linked_keys([key])
        frames = sql_frames.read_frames(engine.frames_needed(together), start, end)
        exacts = _compute(together, start, end, frames)
        exact = exacts[together.index(key)]
        audit_figures = {}
        if controls.epsilon is None:
            results, protection = protect_together(exacts, controls)
            published = results[together.index(key)]
            audit_figures = _audit_figures(protection, controls)
        else:
            published = _controlled_alone(exact, controls)
        snapshot, input_digest = _snapshot(frames)
        definition = engine.load_definition(key)
        release = Release.objects.create(
            table_set=key, period_start=start, period_end=end,
            title=f"{published.title}, {published.period_label}",
            published_by=user, controls=controls.to_dict(), result=published.to_dict(),
            inputs={"engine_version": engine.ENGINE_VERSION,
                    "definition_version": definition.get("version", ""),
                    "country": settings.OPENNRM_COUNTRY,
                    "rows": {name: frame.height for name, frame in frames.items()},
                    **({"linked_table_sets": together, "audit": audit_figures}
                       if controls.epsilon is None else {})},
            input_digest=input_digest, input_snapshot=snapshot,
            exact_digest=_digest(exact), epsilon_spent=controls.epsilon,
        )
        if controls.epsilon is not None:
            PrivacyBudgetSpend.objects.create(
                dataset=key, period_start=start, period_end=end, epsilon=controls.epsilon,
                release=release, purpose=release.title, spent_by=user)
        record_event(user, AuditEvent(Action.EXPORT, "statistics_release", str(release.pk),
                                      reason=f"published {key} {start}–{end}"),
                     channel=channel)
    return release


@dataclass
class Verification:
    inputs_match: bool
    tables_match: bool
    published_match: bool | None  # None for a DP release (its noise is not reproducible)

    @property
    def ok(self) -> bool:
        return self.inputs_match and self.tables_match and self.published_match is not False


def verify_release(release: Release) -> Verification:
    """Recompute a release from its recorded inputs and compare it with what was published."""
    snapshot = bytes(release.input_snapshot)
    frames = _frames_from_snapshot(snapshot)
    _, digest = _snapshot(frames)
    with translation.override("en"):
        exact = engine.compute(release.table_set, release.period_start, release.period_end,
                               frames)
        controls = Controls(**release.controls)
        published_match = None
        together = (release.inputs or {}).get("linked_table_sets")
        if controls.epsilon is None and together:
            try:
                exacts = _compute(together, release.period_start, release.period_end, frames)
                again = controlled_together(exacts, controls)[together.index(release.table_set)]
                published_match = again.to_dict() == as_published(release.result)
            except (KeyError, ReleaseError):
                published_match = False
        elif controls.epsilon is None:  # a release from before linked protection
            again = _controlled_alone(exact, controls)
            published_match = again.to_dict() == as_published(release.result)
    return Verification(inputs_match=digest == release.input_digest,
                        tables_match=_digest(exact) == release.exact_digest,
                        published_match=published_match)


# --- research extracts -------------------------------------------------------------------

EXTRACT_DATASET = "ctdc_extract"


def _registration_years(start: date, end: date) -> list[int]:
    return list(range(start.year, end.year + 1))


def research_extract(user: User, start: date, end: date, k: int | None = None,
                     channel: str = "web") -> Extract:
    """The k-anonymous CTDC-style extract of the persons first contacted in the period; k
    defaults to the node's minimum, and a smaller one is refused."""
    from opennrm.statistics.extracts import ctdc_extract

    ensure_can_view_statistics(user)
    _check_period(start, end)
    if k is None:
        k = policy.current_policy().minimum_k
    if k < 2:
        raise ReleaseError("k must be at least 2.")
    try:
        policy.check_k(k)
    except policy.PolicyError as error:
        raise ReleaseError(str(error)) from error
    cases = sql_frames.cases_frame(start, end)
    result = ctdc_extract(cases, k=k, registration_years=_registration_years(start, end))
    record_event(user, AuditEvent(Action.EXPORT, "research_extract", f"ctdc {start}–{end}",
                                  reason=f"k={k}, {result.report.rows} rows, "
                                         f"{result.report.rows_suppressed} suppressed"),
                 channel=channel)
    return result


def synthetic_extract(user: User, start: date, end: date, epsilon: float,
                      channel: str = "web") -> Extract:
    """A differentially private synthetic extract; spends ε from the extract's budget."""
    from opennrm.statistics.synthetic import dp_synthetic_extract

    ensure_can_publish_releases(user)
    _check_period(start, end)
    if not epsilon or epsilon <= 0:
        raise ReleaseError("ε must be greater than 0.")
    with transaction.atomic():
        _ensure_budget_left(EXTRACT_DATASET, start, end, epsilon)
        cases = sql_frames.cases_frame(start, end)
        result = dp_synthetic_extract(cases, epsilon=epsilon,
                                      registration_years=_registration_years(start, end))
        PrivacyBudgetSpend.objects.create(
            dataset=EXTRACT_DATASET, period_start=start, period_end=end, epsilon=epsilon,
            purpose="synthetic research extract", spent_by=user)
        record_event(user, AuditEvent(Action.EXPORT, "research_extract",
                                      f"ctdc-synthetic {start}–{end}",
                                      reason=f"epsilon={epsilon:g}"), channel=channel)
    return result


def _compute(keys: list[str], start: date, end: date,
             frames: dict[str, pl.DataFrame]) -> list[TableSetResult]:
    cache: dict = {}
    engine._plan_columns(keys, frames, cache)
    return [engine.compute(each, start, end, frames, cache) for each in keys]


def _audit_figures(protection: linked.Protection, controls: Controls) -> dict:
    """What a release records of its audit: no hidden value, only how well it is hidden."""
    widths = [interval.width for interval in protection.intervals]
    narrowest = min(widths) if widths else None
    return {"rule": f"upper - lower >= {controls.threshold} for every count hidden as small",
            "small_counts_checked": len(widths),
            "narrowest_interval": None if narrowest in (None, float("inf")) else narrowest,
            "hidden_to_make_tables_consistent": protection.made_consistent,
            "hidden_to_pass_the_audit": protection.repaired}


def release_result(release: Release) -> TableSetResult:
    return TableSetResult.from_dict(as_published(release.result))


def release_title(release: Release) -> str:
    """The release's title in the active language: its table set's title as published,
    translated, and its period in the language's date format. (`Release.title` keeps the
    English title it was published with.)"""
    title = (release.result or {}).get("title") or release.table_set
    period = period_label_of(release.period_start, release.period_end)
    return f"{translation.gettext(title)}, {period}"


def export_tables(user: User | None, results: list[TableSetResult], file_format: str, *,
                  title: str, country_name: str, language: str, object_type: str,
                  object_ref: str, reason: str = "", channel: str = "") -> bytes:
    """The tables as a CSV, XLSX or PDF file (`reports.formats.render`), the export recorded
    in the audit trail as `object_type` / `object_ref` ("statistics" with the table set and
    period, or "statistics_release" with the release's id); `reason` defaults to the format.

    `user` None is the operator on the server (the command line)."""
    from opennrm.reports.formats import render

    if user is not None:
        ensure_can_view_statistics(user)
    body = render(file_format, results, title=title, country_name=country_name,
                  language=language)
    record_event(user, AuditEvent(Action.EXPORT, object_type, object_ref,
                                  reason=reason or file_format), channel=channel)
    return body
