"""The one write path of regional statistics: a release sent to partners, a partner's release
received, the schedules that send them.

`send_release` publishes a release with the existing machinery (`statistics.releases`:
disclosure control, the node's minimum cell size, the linked release audit, optional noise
and the national privacy budget), adds the cross-border duplicate counts under the same
control, checks the per-partner budget, runs the release audit again on exactly what is
sent (`verify_release`, then a scan of every count in the payload), and queues one
`statistics_release` message per partner in the same transaction. Only these aggregates
leave the node: the payload holds no case, person, token or group id, and no `bases` (the
exact number of units behind each indicator, which may be below the threshold).
"""

from __future__ import annotations

import io
import zipfile
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING

import polars as pl
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_event
from opennrm.linkage.crossborder.models import PresenceAbroad
from opennrm.regional import duplicates
from opennrm.regional.access import ensure_can_send_releases
from opennrm.regional.models import ReceivedRelease, ReleaseSchedule, SentRelease
from opennrm.statistics import dp, engine, releases
from opennrm.statistics.models import PrivacyBudgetSpend, Release
from opennrm.transnational import receiving
from opennrm.transnational.envelope import Rejection
from opennrm.transnational.identity import this_node
from opennrm.transnational.models import Partner
from opennrm.transnational.services import ChannelError, send_message

if TYPE_CHECKING:
    from opennrm.accounts.models import User

MESSAGE_TYPE = "statistics_release"
# Half of a noisy release's ε goes to its tables (split evenly among them, as for any
# release), half to the duplicate counts: together they spend the ε asked.
DUPLICATES_SHARE = 0.5


class RegionalError(ValueError):
    """A release cannot be sent as asked; the message says why, with the figures."""


# --- what a release counts ---------------------------------------------------------------

VICTIMS = {"victim_status": ["presumed", "identified"]}


def headline_table(key: str) -> dict:
    """The table whose total is the table set's number of persons: a table of the set that
    counts persons on the cases frame, a count table before an indicator table (whose total
    is its persons too), the victims of the period (presumed and identified) before a
    narrower population. The duplicate counts are about the same persons."""
    candidates = [table for table in engine.load_definition(key)["tables"]
                  if table.get("frame") == "cases" and table.get("unit", "persons") == "persons"]
    if not candidates:
        raise RegionalError(_("The table set %(key)s counts no persons: it cannot be used "
                              "for regional totals.") % {"key": key})
    return min(candidates, key=lambda table: (table.get("kind") == "indicator",
                                              table.get("where") != VICTIMS))


def _snapshot_frame(release: Release, name: str) -> pl.DataFrame:
    """One frame of the release's recorded input (Parquet files in a zip), so that the
    duplicate counts are about exactly the persons the release counted."""
    with zipfile.ZipFile(io.BytesIO(bytes(release.input_snapshot))) as archive:
        return pl.read_parquet(archive.read(f"{name}.parquet"))


def persons_counted(release: Release) -> set[int]:
    """The statistical persons (`person_key`) the release's headline table counts."""
    table = headline_table(release.table_set)
    frame = _snapshot_frame(release, "cases")
    # The engine's own filter, so that the population is the table's to the letter.
    frame = engine._apply_where(frame, table.get("where", {}))
    return set(frame.get_column("person_key").to_list())


def countries_abroad(person_keys: set[int]) -> dict[int, set[str]]:
    """{statistical person: the other countries their records are known in} for the persons
    among `person_keys` with a mark (a person with several records has the union)."""
    found: dict[int, set[str]] = defaultdict(set)
    rows = PresenceAbroad.objects.values_list("person_id", "person__statistical_person_id",
                                              "country")
    for person_id, statistical_id, country in rows.iterator(chunk_size=5000):
        key = statistical_id or person_id
        if key in person_keys:
            found[key].add(country)
    return found


def duplicate_counts(release: Release, own_country: str) -> dict[frozenset, int]:
    """{set of other countries: persons of the release known in exactly those}."""
    known = countries_abroad(persons_counted(release))
    return duplicates.counts_by_country_set(
        {key: countries - {own_country} for key, countries in known.items()})


# --- sending ------------------------------------------------------------------------------

def partner_budget_cap() -> float:
    """The most ε one partner may receive on one table set and period
    (OPENNRM_REGIONAL_DP_BUDGET; the national cap OPENNRM_DP_BUDGET by default)."""
    cap = getattr(settings, "OPENNRM_REGIONAL_DP_BUDGET", None)
    return float(cap) if cap is not None else releases.privacy_budget_cap()


def partner_dataset(partner: Partner, key: str) -> str:
    """The privacy budget ledger's dataset for what one partner receives of a table set."""
    return f"{key} to {partner.country} {partner.node_id.hex[:8]}"


def _check_partners(partners: list[Partner]) -> None:
    if not partners:
        raise RegionalError(_("Choose at least one partner."))
    for partner in partners:
        if partner.status != Partner.Status.ACTIVE:
            raise RegionalError(_("%(partner)s is suspended: nothing can be sent to it.")
                                % {"partner": partner})
        if not receiving.is_allowed(partner, MESSAGE_TYPE):
            raise RegionalError(_("Statistics releases are not allowed with %(partner)s: the "
                                  "administrator allows the type %(type)s on its page.")
                                % {"partner": partner, "type": MESSAGE_TYPE})


def _check_budgets(key: str, start: date, end: date, epsilon: float,
                   partners: list[Partner]) -> dict[int, float]:
    """ε already spent on each partner for the period; RegionalError with the figures when
    this release would exceed the national cap or a partner's. Called inside the transaction
    that writes the spending, the ledger rows locked."""
    list(PrivacyBudgetSpend.objects.select_for_update().filter(dataset=key))
    try:
        dp.check_budget(releases.epsilon_spent(key, start, end), epsilon,
                        releases.privacy_budget_cap())
    except dp.BudgetExceeded as error:
        raise RegionalError(_("Refused: the national privacy budget of %(key)s for this "
                              "period would be exceeded: %(spent)s already spent and "
                              "%(asked)s asked makes %(sum)s, more than the cap of %(cap)s.")
                            % _figures(key, error)) from error
    spent = {}
    cap = partner_budget_cap()
    for partner in partners:
        dataset = partner_dataset(partner, key)
        list(PrivacyBudgetSpend.objects.select_for_update().filter(dataset=dataset))
        spent[partner.pk] = releases.epsilon_spent(dataset, start, end)
        try:
            dp.check_budget(spent[partner.pk], epsilon, cap)
        except dp.BudgetExceeded as error:
            raise RegionalError(_("Refused: the privacy budget of %(key)s for %(partner)s in "
                                  "this period would be exceeded: %(spent)s already spent "
                                  "and %(asked)s asked makes %(sum)s, more than the cap of "
                                  "%(cap)s.") % {**_figures(key, error),
                                                 "partner": partner}) from error
    return spent


def _figures(key: str, error: dp.BudgetExceeded) -> dict:
    return {"key": key, "spent": f"{error.spent:g}", "asked": f"{error.asked:g}",
            "sum": f"{error.spent + error.asked:g}", "cap": f"{error.cap:g}"}


def outgoing_tables(result: dict) -> dict:
    """The release's tables as they may leave the node: as published, without the bases of
    indicator tables (exact unit counts, which may be below the threshold)."""
    return {**result, "tables": [{**table, "bases": None} for table in result["tables"]]}


def small_counts(payload: dict, threshold: int) -> list[str]:
    """Every count of the payload from 1 to threshold − 1 (none may leave the node): the
    cells and totals of count tables, the persons counted by indicator tables (their totals),
    the national total and the duplicate counts."""
    found = []

    def check(where: str, value) -> None:
        if value is not None and 0 < value < threshold:
            found.append(f"{where}: {value}")

    for table in payload["result"]["tables"]:
        totals = [*table["row_totals"], table["total"]]
        cells = [cell for row in table["cells"] for cell in row] + table["column_totals"]
        for index, cell in enumerate(totals + (cells if table.get("kind") != "indicator"
                                                else [])):
            check(f"{table['key']} #{index}", cell["value"])
    check("persons", payload["persons"]["total"])
    for count in payload["duplicates"]:
        check("+".join(count["countries"]), count["value"])
    return found


def _headline_total(result: dict, key: str) -> dict:
    table_key = headline_table(key)["key"]
    table = next(t for t in result["tables"] if t["key"] == table_key)
    return {"table": table_key, "total": table["total"]["value"],
            "flag": table["total"]["flag"]}


def build_payload(release: Release, country: str, controlled: list, *,
                  budget: dict) -> dict:
    """The `statistics_release` message for one partner (the budget figures are its own)."""
    controls = release.controls
    result = outgoing_tables(release.result)
    return {
        "release": {"id": release.pk, "published_at": release.published_at.isoformat()},
        "country": country,
        "table_set": release.table_set,
        "title": result["title"],
        "period": {"start": release.period_start.isoformat(),
                   "end": release.period_end.isoformat()},
        "definitions_version": str(release.inputs.get("definition_version", "")),
        "engine_version": str(release.inputs.get("engine_version", "")),
        "disclosure": {"threshold": controls["threshold"], "rounding": controls["rounding"],
                       "epsilon": controls.get("epsilon"),
                       "audit": release.inputs.get("audit")},
        "privacy_budget": budget,
        "persons": _headline_total(result, release.table_set),
        "duplicates": [count.to_dict() for count in controlled],
        "result": result,
    }


@dataclass(frozen=True)
class Sending:
    release: Release
    sent: list[SentRelease]


def send_release(actor: User, partners: list[Partner], key: str, start: date, end: date,
                 controls: releases.Controls, *, schedule: ReleaseSchedule | None = None,
                 channel: str = "web") -> Sending:
    """Publish a release of `key` for the period and send it to each partner, or refuse it
    whole (RegionalError, with the figures) and send nothing.

    With ε, half goes to the tables (the national ledger records it as for any release) and
    half to the duplicate counts (recorded on the same dataset), and each partner's own
    ledger (`partner_dataset`) records the whole ε: a release that would take a partner's
    spending for an overlapping period over `partner_budget_cap()` is refused."""
    ensure_can_send_releases(actor)
    _check_partners(partners)
    headline_table(key)
    epsilon = controls.epsilon
    country = this_node().country
    with transaction.atomic():
        spent = _check_budgets(key, start, end, epsilon, partners) if epsilon else {}
        table_controls = (replace(controls, epsilon=epsilon * (1 - DUPLICATES_SHARE))
                          if epsilon else controls)
        try:
            release = releases.publish_release(actor, key, start, end, table_controls,
                                               channel=channel)
        except releases.ReleaseError as error:
            raise RegionalError(str(error)) from error
        # The release audit, again, on exactly what is about to leave: recomputed from the
        # recorded input, protected together with every table set, audited (linked.audit).
        verification = releases.verify_release(release)
        if not verification.ok:
            raise RegionalError(_("The release audit refuses this release: it does not "
                                  "verify against its own input."))
        noise = None
        duplicates_epsilon = None
        if epsilon:
            duplicates_epsilon = epsilon * DUPLICATES_SHARE
            noise = dp.count_mechanism(duplicates_epsilon)
            PrivacyBudgetSpend.objects.create(
                dataset=key, period_start=start, period_end=end, epsilon=duplicates_epsilon,
                release=release, spent_by=actor,
                purpose=f"cross-border duplicate counts of release {release.pk}"[:200])
        domain = duplicates.all_country_sets(
            {p.country for p in Partner.objects.all()} - {country}) if noise else ()
        controlled = duplicates.control_counts(
            duplicate_counts(release, country), threshold=controls.threshold,
            rounding=controls.rounding, noise=noise, domain=domain)
        sent = []
        for partner in partners:
            budget = {"epsilon": epsilon,
                      "tables_epsilon": table_controls.epsilon,
                      "duplicates_epsilon": duplicates_epsilon,
                      "spent_on_partner": spent.get(partner.pk, 0.0) + (epsilon or 0.0),
                      "cap": partner_budget_cap()}
            payload = build_payload(release, country, controlled, budget=budget)
            if leaks := small_counts(payload, controls.threshold):
                raise RegionalError(_("The release audit refuses this release: counts below "
                                      "the threshold would leave the node (%(where)s).")
                                    % {"where": "; ".join(leaks[:5])})
            try:
                message = send_message(actor, partner, MESSAGE_TYPE, payload)
            except ChannelError as error:
                raise RegionalError(str(error)) from error
            if epsilon:
                PrivacyBudgetSpend.objects.create(
                    dataset=partner_dataset(partner, key), period_start=start,
                    period_end=end, epsilon=epsilon, release=release, spent_by=actor,
                    purpose=(f"statistics_release to {partner.name} ({partner.country}), "
                             f"node {partner.node_id}")[:200])
            sent.append(SentRelease.objects.create(
                release=release, partner=partner, message_id=message.message_id,
                schedule=schedule, payload=payload, epsilon=epsilon, sent_by=actor))
        record_event(actor, AuditEvent(
            Action.EXPORT, "statistics_release", str(release.pk),
            reason=f"sent to {', '.join(p.country for p in partners)} "
                   f"({MESSAGE_TYPE}, {len(controlled)} duplicate counts)"), channel=channel)
    return Sending(release, sent)


# --- receiving ----------------------------------------------------------------------------

def receive_release(message: receiving.ReceivedMessage) -> None:
    """Keep a partner's release (the channel has checked its signature, type and schema). A
    release naming another country than its sender's is refused."""
    payload = message.payload
    if payload["country"] != message.partner.country:
        raise Rejection("country_mismatch",
                        f"A release of {payload['country']} cannot come from the node of "
                        f"{message.partner.country}.")
    ReceivedRelease.objects.create(
        partner=message.partner, message_id=message.message_id, country=payload["country"],
        table_set=payload["table_set"],
        period_start=date.fromisoformat(payload["period"]["start"]),
        period_end=date.fromisoformat(payload["period"]["end"]),
        definitions_version=payload["definitions_version"],
        published_at=payload["release"]["published_at"], payload=payload)


def register() -> None:
    receiving.register_handler(MESSAGE_TYPE, receive_release)


# --- schedules ----------------------------------------------------------------------------

def period_before(day: date, frequency: str) -> tuple[date, date]:
    """The last complete month, quarter or year before `day`."""
    from opennrm.statistics.periods import parse_period

    if frequency == "yearly":
        return parse_period(str(day.year - 1))
    if frequency == "quarterly":
        quarter = (day.month - 1) // 3  # the current quarter, 0-based
        year = day.year if quarter else day.year - 1
        return parse_period(f"{year}-Q{quarter or 4}")
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    return parse_period(f"{year}-{month:02d}")


def _next_run(day: date, frequency: str) -> date:
    """The first day of the next month, quarter or year after `day`."""
    if frequency == "yearly":
        return date(day.year + 1, 1, 1)
    if frequency == "quarterly":
        month = ((day.month - 1) // 3 + 1) * 3 + 1
    else:
        month = day.month + 1
    return date(day.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def create_schedule(actor: User, table_set: str, frequency: str, partners: list[Partner],
                    threshold: int | None = None, rounding: int | None = None,
                    epsilon: float | None = None) -> ReleaseSchedule:
    """Send `table_set` to `partners` after each period of `frequency` ends; the controls are
    checked against the node's policy now, and again at each sending."""
    ensure_can_send_releases(actor)
    errors = {}
    if table_set not in engine.table_set_keys():
        errors["table_set"] = _("Unknown table set.")
    if frequency not in {"monthly", "quarterly", "yearly"}:
        errors["frequency"] = _("Choose monthly, quarterly or yearly.")
    try:
        _check_partners(partners)
    except RegionalError as error:
        errors["partners"] = str(error)
    try:
        releases.policy_controls(threshold, rounding, epsilon)
    except releases.ReleaseError as error:
        errors["threshold"] = str(error)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        schedule = ReleaseSchedule.objects.create(
            table_set=table_set, frequency=frequency, threshold=threshold, rounding=rounding,
            epsilon=epsilon, next_run_on=_next_run(timezone.localdate(), frequency),
            created_by=actor)
        schedule.partners.set(partners)
        record_event(actor, AuditEvent(Action.CREATE, "regional_schedule", str(schedule.pk),
                                       reason=f"{table_set} {frequency} to "
                                              f"{', '.join(p.country for p in partners)}"))
    return schedule


def run_due_schedules(today: date | None = None) -> list[str]:
    """Send what every active schedule owes up to `today`: one release per period ended.
    A refusal (budget, policy, a partner suspended) is kept on the schedule and the next
    period is tried next time; it never stops the others. What happened, one line each."""
    today = today or timezone.localdate()
    done = []
    for schedule in ReleaseSchedule.objects.filter(active=True, next_run_on__lte=today):
        start, end = period_before(schedule.next_run_on, schedule.frequency)
        partners = list(schedule.partners.all())
        error = ""
        try:
            controls = releases.policy_controls(schedule.threshold, schedule.rounding,
                                                schedule.epsilon)
            sending = send_release(schedule.created_by, partners, schedule.table_set, start,
                                   end, controls, schedule=schedule, channel="task")
            done.append(f"schedule {schedule.pk}: release {sending.release.pk} sent")
        except (RegionalError, releases.ReleaseError, ValidationError) as failure:
            error = str(failure)
            done.append(f"schedule {schedule.pk}: refused: {error}")
        except Exception as failure:  # noqa: BLE001 - a permission lost, a partner gone
            error = str(failure) or failure.__class__.__name__
            done.append(f"schedule {schedule.pk}: failed: {error}")
        ReleaseSchedule.objects.filter(pk=schedule.pk).update(
            next_run_on=_next_run(schedule.next_run_on, schedule.frequency),
            last_error=error)
    return done
