"""The case's timeline: every step of its path through the referral mechanism, from every app.

It composes what the apps record (the case and its identification, the referrals through
`referrals.history`, the protection measures and the support plan); it reads, never writes,
and reads nothing encrypted.
"""

import datetime
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from opennrm.cases.models import Case
from opennrm.core import codelists
from opennrm.core.dates import short_date
from opennrm.protection.models import (
    CompensationOutcome,
    PermitStatus,
    ProceedingStageChange,
    SupportPlan,
)
from opennrm.referrals.history import referral_history
from opennrm.screening.models import Outcome


@dataclass(frozen=True)
class TimelineEntry:
    """One step of a case's path through the referral mechanism. The label never holds
    encrypted data. `upcoming` steps (an end, an expiry, a review due) lie ahead."""

    date: datetime.date
    kind: str
    label: str
    decided_by: str = ""
    recorded_by: str = ""
    upcoming: bool = False


def _username(user) -> str:
    return user.username if user else ""


def _referral_entries(case: Case) -> list[TimelineEntry]:
    """Referrals, their answers and the assistance delivered, read through the referrals
    app's `referral_history` (reasons and descriptions, which are encrypted, are not
    loaded)."""
    entries = []
    for referral in referral_history(case):
        service = referral.service.name
        for event in referral.history_events:
            if not event.from_state:
                label = _("Referred to %(service)s (%(agency)s)") % {
                    "service": service, "agency": referral.recipient_name}
            else:
                label = _("Referral to %(service)s: %(state)s") % {
                    "service": service, "state": event.get_to_state_display()}
            entries.append(TimelineEntry(
                timezone.localtime(event.at).date(), f"referral_{event.to_state}", label,
                event.agency.name if event.agency_id else "", _username(event.actor)))
        for delivered in referral.assistance_delivered:
            entries.append(TimelineEntry(
                delivered.delivered_on, "assistance_delivered",
                _("Assistance delivered: %(kind)s") % {
                    "kind": codelists.label("service_types", delivered.service_type)},
                delivered.delivering_agency.name, _username(delivered.delivered_by)))
    return entries

def _period_entries(case: Case, today) -> list[TimelineEntry]:
    entries = []
    periods = case.reflection_periods.select_related("deciding_agency", "recorded_by")
    for period in periods.prefetch_related("extensions__deciding_agency",
                                           "extensions__recorded_by"):
        entries.append(TimelineEntry(
            period.decided_on, "reflection_period_granted",
            _("Recovery and reflection period granted: %(start)s to %(end)s") % {
                "start": short_date(period.starts_on),
                "end": short_date(period.original_ends_on)},
            period.decided_by, _username(period.recorded_by)))
        for extension in period.extensions.all():
            entries.append(TimelineEntry(
                extension.decided_on, "reflection_period_extended",
                _("Reflection period extended to %(end)s (%(reason)s)") % {
                    "end": short_date(extension.new_ends_on),
                    "reason": codelists.label("reflection_extension_reasons", extension.reason)},
                extension.decided_by, _username(extension.recorded_by)))
        entries.append(TimelineEntry(period.ends_on, "reflection_period_end",
                                     _("Reflection period ends"),
                                     upcoming=period.ends_on >= today))
    return entries


def _permit_entries(case: Case, today) -> list[TimelineEntry]:
    entries = []
    permits = case.residence_permits.select_related("deciding_agency", "recorded_by",
                                                    "decision_recorded_by", "renews")
    for permit in permits:
        kind_label = codelists.label("permit_types", permit.permit_type)
        if permit.renews_id is None:
            entries.append(TimelineEntry(
                permit.applied_on, "residence_permit_applied",
                _("Residence permit applied for: %(type)s") % {"type": kind_label},
                "", _username(permit.recorded_by)))
        if permit.decided_on:
            if permit.renews_id:
                kind, label = "residence_permit_renewed", _(
                    "Residence permit renewed until %(date)s") % {
                    "date": short_date(permit.expires_on)}
            elif permit.status == PermitStatus.REFUSED:
                kind, label = "residence_permit_refused", _("Residence permit refused")
            else:
                kind, label = "residence_permit_granted", _(
                    "Residence permit granted until %(date)s") % {
                    "date": short_date(permit.expires_on)}
            entries.append(TimelineEntry(permit.decided_on, kind, label, permit.decided_by,
                                         _username(permit.decision_recorded_by)))
        if permit.expires_on and permit.status in (PermitStatus.GRANTED, PermitStatus.EXPIRED):
            entries.append(TimelineEntry(permit.expires_on, "residence_permit_expiry",
                                         _("Residence permit expires"),
                                         upcoming=permit.expires_on >= today))
    return entries


def _proceeding_entries(case: Case) -> list[TimelineEntry]:
    entries = []
    opened: set[int] = set()
    changes = (ProceedingStageChange.objects.filter(proceeding__case=case)
               .select_related("deciding_agency", "recorded_by", "proceeding")
               .order_by("proceeding_id", "decided_on", "id"))
    for change in changes:
        stage = codelists.label("proceeding_stages", change.stage)
        if change.proceeding_id in opened:
            kind, label = "proceeding_stage", _(
                "Proceedings reached a new stage: %(stage)s") % {"stage": stage}
        else:
            opened.add(change.proceeding_id)
            kind, label = "proceeding_opened", _(
                "Criminal proceedings: %(stage)s (role: %(role)s)") % {
                "stage": stage,
                "role": codelists.label("proceeding_roles", change.proceeding.role)}
        # Stages the police or prosecution recorded (proceedings kept by their criminal
        # case) name their agency, never the investigator.
        recorder = (_username(change.recorded_by)
                    if change.recorded_by.agency_id == case.owner_agency_id else "")
        entries.append(TimelineEntry(change.decided_on, kind, label, change.decided_by,
                                     recorder))
    return entries


def _transfer_entries(case: Case) -> list[TimelineEntry]:
    """Transfers to another agency: requested, then accepted or declined (the reason of a
    decline, which is encrypted, is not loaded)."""
    entries = []
    for transfer in case.transfers.select_related("from_agency", "to_agency", "requested_by",
                                                  "decided_by").defer("reason"):
        entries.append(TimelineEntry(
            timezone.localtime(transfer.requested_at).date(), "transfer_requested",
            _("Transfer to %(agency)s requested") % {"agency": transfer.to_agency.name},
            transfer.from_agency.name, _username(transfer.requested_by)))
        if transfer.decided_at:
            label = (_("Transferred to %(agency)s") if transfer.state == "accepted"
                     else _("Transfer declined by %(agency)s")) % {
                "agency": transfer.to_agency.name}
            entries.append(TimelineEntry(
                timezone.localtime(transfer.decided_at).date(), f"transfer_{transfer.state}",
                label, transfer.to_agency.name, _username(transfer.decided_by)))
    return entries


def _claim_entries(case: Case) -> list[TimelineEntry]:
    entries = []
    for claim in case.compensation_claims.select_related("deciding_agency", "recorded_by",
                                                         "outcome_recorded_by"):
        source = codelists.label("compensation_sources", claim.source)
        entries.append(TimelineEntry(claim.filed_on, "compensation_claim_filed",
                                     _("Compensation claimed: %(source)s") % {"source": source},
                                     "", _username(claim.recorded_by)))
        if claim.decided_on and claim.outcome != CompensationOutcome.PENDING:
            awarded = claim.outcome != CompensationOutcome.REFUSED
            label = (_("Compensation awarded: %(amount)s %(currency)s") % {
                "amount": claim.amount_awarded, "currency": claim.currency} if awarded
                else _("Compensation refused"))
            entries.append(TimelineEntry(claim.decided_on, "compensation_decided", label,
                                         claim.decided_by,
                                         _username(claim.outcome_recorded_by)))
        if claim.paid_on:
            entries.append(TimelineEntry(claim.paid_on, "compensation_paid",
                                         _("Compensation paid"), claim.decided_by,
                                         _username(claim.outcome_recorded_by)))
    return entries


def _return_entries(case: Case) -> list[TimelineEntry]:
    entries = []
    for plan in case.return_plans.select_related("deciding_agency", "recorded_by",
                                                 "return_recorded_by"):
        country = codelists.label("countries", plan.destination_country)
        if plan.risk_assessed_on:
            entries.append(TimelineEntry(
                plan.risk_assessed_on, "risk_assessment",
                _("Risk assessment for the return (risk: %(level)s)") % {
                    "level": plan.get_risk_level_display()},
                plan.risk_assessed_by, _username(plan.recorded_by)))
        entries.append(TimelineEntry(
            plan.decided_on, "return_planned",
            (_("Voluntary return planned to %(country)s") if plan.voluntary
             else _("Return (not voluntary) planned to %(country)s")) % {"country": country},
            plan.decided_by, _username(plan.recorded_by)))
        if plan.returned_on:
            entries.append(TimelineEntry(plan.returned_on, "returned",
                                         _("Returned to %(country)s") % {"country": country},
                                         "", _username(plan.return_recorded_by)))
    return entries


def _support_entries(case: Case, today) -> list[TimelineEntry]:
    plan = SupportPlan.objects.filter(case=case).select_related(
        "responsible_agency", "created_by").first()
    if plan is None:
        return []
    entries = [TimelineEntry(plan.agreed_on, "support_plan_agreed", _("Support plan agreed"),
                             plan.responsible_agency.name, _username(plan.created_by))]
    for review in plan.reviews.select_related("reviewed_by"):
        entries.append(TimelineEntry(review.reviewed_on, "support_review",
                                     _("Support plan reviewed"), "",
                                     _username(review.reviewed_by)))
    if plan.is_active and plan.next_review_on:
        entries.append(TimelineEntry(plan.next_review_on, "support_review_due",
                                     _("Support plan review due"), plan.responsible_agency.name,
                                     upcoming=plan.next_review_on >= today))
    if plan.closed_on:
        entries.append(TimelineEntry(plan.closed_on, "support_plan_closed",
                                     _("Support plan closed")))
    return entries


def _identification_entries(case: Case) -> list[TimelineEntry]:
    entries = [TimelineEntry(case.first_contact_on, "first_contact",
                             _("First contact: registered as a presumed victim"),
                             case.owner_agency.name)]
    presumed = (case.screenings.filter(outcome__in=[Outcome.PROBABLE, Outcome.POSSIBLE])
                .select_related("agency", "screened_by").order_by("screened_on", "id")
                .defer("notes").first())
    if presumed is not None:
        entries.append(TimelineEntry(
            presumed.screened_on, "presumed_victim",
            _("Screening: %(outcome)s") % {"outcome": presumed.get_outcome_display()},
            presumed.agency.name, _username(presumed.screened_by)))
    for decision in case.identification_decisions.select_related(
            "deciding_agency", "decided_by").defer("grounds", "appeal"):
        entries.append(TimelineEntry(
            decision.decided_on, "identification_decision",
            _("Formal identification: %(decision)s") % {
                "decision": decision.get_decision_display()},
            decision.deciding_agency.name, _username(decision.decided_by)))
    return entries


def timeline(case: Case) -> list[TimelineEntry]:
    """Every step of the case in date order: first contact, the presumed-victim screening,
    identification decisions, reflection period, permits, proceedings, compensation, return,
    support plan and closure. Nothing encrypted is read."""
    today = timezone.localdate()
    case = Case.objects.select_related("owner_agency").get(pk=case.pk)
    entries = (_identification_entries(case) + _referral_entries(case)
               + _period_entries(case, today)
               + _permit_entries(case, today) + _proceeding_entries(case)
               + _claim_entries(case) + _return_entries(case) + _support_entries(case, today)
               + _transfer_entries(case))
    if case.closed_at:
        entries.append(TimelineEntry(
            timezone.localtime(case.closed_at).date(), "case_closed",
            _("Case closed: %(reason)s") % {
                "reason": codelists.label("closure_reasons", case.closure_reason)},
            case.owner_agency.name))
    # A stable order within a day: the order in which the steps were listed above.
    return sorted(entries, key=lambda entry: entry.date)
