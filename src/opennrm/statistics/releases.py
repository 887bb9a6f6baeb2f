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
from opennrm.statistics import disclosure, dp, engine, extract
from opennrm.statistics.access import ensure_can_publish_releases, ensure_can_view_statistics
from opennrm.statistics.models import PrivacyBudgetSpend, Release
from opennrm.statistics.tables import Table, TableSetResult

if TYPE_CHECKING:
    from opennrm.accounts.models import User
    from opennrm.statistics.extracts import Extract

DEFAULT_THRESHOLD = 5


class ReleaseError(ValueError):
    """A release cannot be made as asked (the message says why, for the user)."""


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
    """The table set as it may be shown: noise (if ε), suppression, rounding — in that order."""
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
        published.append(table)
    return replace(result, tables=published, controls=controls.to_dict(), notes=notes)


def preview(user: User, key: str, start: date, end: date,
            controls: Controls | None = None) -> TableSetResult:
    """The disclosure-controlled tables for the statistics page (not a release)."""
    ensure_can_view_statistics(user)
    _check_period(start, end)
    controls = controls or Controls()
    if controls.epsilon is not None:
        # Noise spends budget: only a release may do it.
        controls = replace(controls, epsilon=None)
    return controlled(engine.compute(key, start, end), controls)


def report(keys, start: date, end: date, controls: Controls | None = None,
           *, language: str = "en") -> list[TableSetResult]:
    """Several table sets for one period, disclosure-controlled, for a report (no noise).

    The caller checks who asks: the pages and the API through `ensure_can_view_statistics`;
    the command line is the server operator's.
    """
    _check_period(start, end)
    controls = replace(controls or Controls(), epsilon=None)
    with translation.override(language):
        return [controlled(result, controls) for result in engine.compute_all(keys, start, end)]


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
    with translation.override("en"), transaction.atomic():
        if controls.epsilon is not None:
            _ensure_budget_left(key, start, end, controls.epsilon)
        frames = extract.read_frames(engine.frames_needed([key]), start, end)
        exact = engine.compute(key, start, end, frames)
        published = controlled(exact, controls)
        snapshot, input_digest = _snapshot(frames)
        definition = engine.load_definition(key)
        release = Release.objects.create(
            table_set=key, period_start=start, period_end=end,
            title=f"{published.title}, {published.period_label}",
            published_by=user, controls=controls.to_dict(), result=published.to_dict(),
            inputs={"engine_version": engine.ENGINE_VERSION,
                    "definition_version": definition.get("version", ""),
                    "country": settings.OPENNRM_COUNTRY,
                    "rows": {name: frame.height for name, frame in frames.items()}},
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
        if controls.epsilon is None:
            again = controlled(exact, controls)
            published_match = again.to_dict() == release.result
    return Verification(inputs_match=digest == release.input_digest,
                        tables_match=_digest(exact) == release.exact_digest,
                        published_match=published_match)


# --- research extracts -------------------------------------------------------------------

EXTRACT_DATASET = "ctdc_extract"


def _registration_years(start: date, end: date) -> list[int]:
    return list(range(start.year, end.year + 1))


def research_extract(user: User, start: date, end: date, k: int = 11,
                     channel: str = "web") -> Extract:
    """The k-anonymous CTDC-style extract of the persons first contacted in the period."""
    from opennrm.statistics.extracts import ctdc_extract

    ensure_can_view_statistics(user)
    _check_period(start, end)
    if k < 2:
        raise ReleaseError("k must be at least 2.")
    cases = extract.cases_frame(start, end)
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
        cases = extract.cases_frame(start, end)
        result = dp_synthetic_extract(cases, epsilon=epsilon,
                                      registration_years=_registration_years(start, end))
        PrivacyBudgetSpend.objects.create(
            dataset=EXTRACT_DATASET, period_start=start, period_end=end, epsilon=epsilon,
            purpose="synthetic research extract", spent_by=user)
        record_event(user, AuditEvent(Action.EXPORT, "research_extract",
                                      f"ctdc-synthetic {start}–{end}",
                                      reason=f"epsilon={epsilon:g}"), channel=channel)
    return result


def release_result(release: Release) -> TableSetResult:
    return TableSetResult.from_dict(release.result)


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
