"""The one write path for referrals and the assistance delivered under them.

The web UI, the REST API and the demo call these functions; each checks who may act,
validates, writes, records the audit trail and tells the other side, in one transaction, so
a refused change changes nothing. Who may see what is decided in `opennrm.cases.access`.

A referral to a service outside OpenNRM (`record_external_referral`) follows the same consent
rule and shares fields the same way; the referring caseworker contacts the provider with the
referral letter (`print_referral_letter`) and records what became of it
(`record_referral_outcome`), moving it through the states of `EXTERNAL_TRANSITIONS`.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext

from opennrm.accounts.models import Agency, User
from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_events
from opennrm.cases import access
from opennrm.cases.models import Case, Consent
from opennrm.cases.signals import consent_withdrawn, transfer_changed
from opennrm.core import codelists, printing
from opennrm.core.dates import short_date
from opennrm.core.validation import TextLimit, clean_date, clean_text
from opennrm.referrals import access as referral_access
from opennrm.referrals.models import (
    EXTERNAL_OUTCOMES,
    OPEN_STATES,
    Assistance,
    Referral,
    ReferralEvent,
    ReferralState,
)
from opennrm.reminders.services import clear_notifications, notify
from opennrm.services.matching import takes_referrals_in_opennrm
from opennrm.services.models import Service

REFERRAL_CONSENT = "referral"

# What a referral may share with the recipient, chosen per referral (need to know). Identity
# (names, birth date, phone) is shared only when ticked.
SHARED_FIELDS = {
    "given_name": gettext_lazy("Given name"),
    "family_name": gettext_lazy("Family name"),
    "birth_date": gettext_lazy("Birth date"),
    "phone": gettext_lazy("Phone"),
    "gender": gettext_lazy("Gender"),
    "age_band": gettext_lazy("Age band"),
    "languages": gettext_lazy("Languages"),
    "citizenships": gettext_lazy("Citizenship"),
    "exploitation_forms": gettext_lazy("Forms of exploitation"),
    "needs": gettext_lazy("The note on what the person needs"),
}
DEFAULT_SHARED_FIELDS = ("gender", "age_band", "languages", "needs")
IDENTITY_SHARED_FIELDS = ("given_name", "family_name", "birth_date", "phone")
# Shared fields holding codes, and the code list that names them.
SHARED_FIELD_CODELISTS = {"gender": "genders", "age_band": "age_bands",
                          "languages": "languages", "citizenships": "countries",
                          "exploitation_forms": "exploitation_forms"}
# How far ahead a referral outside OpenNRM may be set to be followed up.
LONGEST_FOLLOW_UP = timedelta(days=366)

SENDER, RECIPIENT, SYSTEM = "sender", "recipient", "system"


@dataclass(frozen=True)
class Transition:
    """An allowed change of state: who may make it and whether a reason is required."""

    by: str
    reason_required: bool


# The state machine: every allowed change, and no other. Consent withdrawal (SYSTEM) stops
# an open referral whoever holds it.
TRANSITIONS: dict[str, dict[str, Transition]] = {
    ReferralState.SENT: {
        ReferralState.ACCEPTED: Transition(RECIPIENT, reason_required=False),
        ReferralState.DECLINED: Transition(RECIPIENT, reason_required=True),
        ReferralState.CANCELLED: Transition(SENDER, reason_required=True),
        ReferralState.STOPPED: Transition(SYSTEM, reason_required=False),
    },
    ReferralState.ACCEPTED: {
        ReferralState.COMPLETED: Transition(RECIPIENT, reason_required=False),
        ReferralState.WITHDRAWN: Transition(RECIPIENT, reason_required=True),
        ReferralState.CANCELLED: Transition(SENDER, reason_required=True),
        ReferralState.STOPPED: Transition(SYSTEM, reason_required=False),
    },
}

# Outside OpenNRM nobody answers in the system: the referring caseworker records what the
# provider said (`record_referral_outcome`), or calls the referral off.
EXTERNAL_TRANSITIONS: dict[str, dict[str, Transition]] = {
    ReferralState.SENT: {
        ReferralState.ACCEPTED: Transition(SENDER, reason_required=False),
        ReferralState.COMPLETED: Transition(SENDER, reason_required=False),
        ReferralState.DECLINED: Transition(SENDER, reason_required=False),
        ReferralState.CANCELLED: Transition(SENDER, reason_required=True),
        ReferralState.STOPPED: Transition(SYSTEM, reason_required=False),
    },
    ReferralState.ACCEPTED: {
        ReferralState.COMPLETED: Transition(SENDER, reason_required=False),
        ReferralState.CANCELLED: Transition(SENDER, reason_required=True),
        ReferralState.STOPPED: Transition(SYSTEM, reason_required=False),
    },
}

# The outcomes (`external_referral_outcomes`) that may be recorded in each state, and the
# state each brings the referral to, so that the statistics count it with the others. No
# answer: the referring agency stops waiting, as when it cancels.
OUTCOMES: dict[str, dict[str, str]] = {
    ReferralState.SENT: {
        "accepted": ReferralState.ACCEPTED,
        "assistance_delivered": ReferralState.COMPLETED,
        "declined": ReferralState.DECLINED,
        "no_answer": ReferralState.CANCELLED,
    },
    ReferralState.ACCEPTED: {"assistance_delivered": ReferralState.COMPLETED},
}


def transitions_of(referral: Referral) -> dict[str, dict[str, Transition]]:
    """The state machine `referral` follows: in OpenNRM, or outside it."""
    return EXTERNAL_TRANSITIONS if referral.external else TRANSITIONS


# Who is told of a change (the other side), and what; never a name: e-mail leaves the node.
_NOTICES = {
    ReferralState.SENT: (RECIPIENT, gettext_noop(
        "A new referral for your agency: case %(case_number)s, %(service)s.")),
    ReferralState.ACCEPTED: (SENDER, gettext_noop(
        "The referral of case %(case_number)s to %(service)s was accepted.")),
    ReferralState.DECLINED: (SENDER, gettext_noop(
        "The referral of case %(case_number)s to %(service)s was declined.")),
    ReferralState.CANCELLED: (RECIPIENT, gettext_noop(
        "The referral of case %(case_number)s to %(service)s was cancelled by the referring "
        "agency.")),
    ReferralState.WITHDRAWN: (SENDER, gettext_noop(
        "The referral of case %(case_number)s to %(service)s was withdrawn by the receiving "
        "agency.")),
    ReferralState.COMPLETED: (SENDER, gettext_noop(
        "The referral of case %(case_number)s to %(service)s was completed.")),
    ReferralState.STOPPED: (RECIPIENT, gettext_noop(
        "Consent withdrawn: the referral of case %(case_number)s to %(service)s is stopped "
        "and your access to its data has ended.")),
}
# Outside OpenNRM only the referring caseworker can tell the provider.
_EXTERNAL_STOPPED = gettext_noop(
    "Consent withdrawn: the referral of case %(case_number)s to %(service)s, outside OpenNRM, "
    "is stopped. Tell the service that the person withdrew their consent.")


# --- reading -------------------------------------------------------------------------------

def referrals_visible_to(user: User) -> QuerySet[Referral]:
    """Every referral `user` may see: sent by or addressed to their agency."""
    return Referral.objects.filter(referral_access.referrals_visible(user))


def inbox(user: User) -> QuerySet[Referral]:
    """Referrals addressed to `user`'s agency that `user` may see."""
    return Referral.objects.filter(referral_access.incoming_referrals(user))


def outbox(user: User) -> QuerySet[Referral]:
    """Referrals `user`'s agency sent, of cases `user` may see."""
    return Referral.objects.filter(referral_access.outgoing_referrals(user))


def get_referral(user: User, referral_id: int) -> Referral:
    """The referral if `user` may see it; `access.CaseNotFound` (a 404) otherwise."""
    referral = (referrals_visible_to(user).filter(pk=referral_id)
                .select_related("case", "service", "service__provider", "referring_agency",
                                "recipient_agency", "referred_by", "consent")
                .first())
    if referral is None:
        raise access.CaseNotFound(str(referral_id))
    return referral


def case_referrals(user: User, case: Case) -> QuerySet[Referral]:
    """The referrals of a case, for those who may see the case (its owning agency)."""
    access.ensure_visible(user, case)
    return case.referrals.select_related("service", "service__provider", "recipient_agency")


@dataclass
class ReferralView:
    """A referral as one side sees it: `shared` only for the recipient while it has access."""

    referral: Referral
    side: str
    shared: dict | None
    assistance: list[Assistance]
    events: list[ReferralEvent]


def read_referral(user: User, referral_id: int, channel: str = "") -> ReferralView:
    """Open a referral for `user` (sender or recipient), recording what personal data was
    shown: the shared fields for the recipient, the needs and override reason for the sender,
    and the assistance descriptions for both."""
    referral = get_referral(user, referral_id)
    side = side_of(user, referral)
    shared = None
    if side == RECIPIENT:
        shared = shared_data(user, referral, channel)
    else:
        record_events(user, [AuditEvent(Action.READ, "referral", referral.case.case_number,
                                        ("needs", "consent_override_reason"),
                                        f"referral {referral.pk}")], channel)
    events = list(referral.events.select_related("actor", "agency"))
    return ReferralView(referral, side, shared, assistance_records(user, referral, channel),
                        events)


def shared_data(user: User, referral: Referral, channel: str = "") -> dict | None:
    """The fields the referral shares, for its recipient, recording the read in the audit
    trail; None when the recipient's access has ended (closed or consent withdrawn)."""
    if not referral_access.can_see_shared_fields(user, referral):
        return None
    shared = _shared_values(referral)
    record_events(user, [AuditEvent(Action.READ, "case", referral.case.case_number,
                                    tuple(shared), f"referral {referral.pk}")], channel)
    return shared


def _shared_values(referral: Referral) -> dict:
    """The values of the fields the referral shares, and no other (nothing else of the
    person is decrypted); the callers check access and audit the read."""
    case, person = referral.case, referral.case.person
    values = {
        "given_name": lambda: person.given_name,
        "family_name": lambda: person.family_name,
        "birth_date": lambda: person.birth_date,
        "phone": lambda: person.phone,
        "gender": lambda: person.gender,
        "age_band": lambda: case.age_band,
        "languages": lambda: list(person.languages),
        "citizenships": lambda: list(person.citizenships),
        "exploitation_forms": lambda: list(case.exploitation_forms),
        "needs": lambda: referral.needs,
    }
    return {name: values[name]() for name in SHARED_FIELDS if name in referral.shared_fields}


def shared_value_text(name: str, value) -> str:
    """A shared value as people read it: codes by their label, dates in the active
    language's format, lists joined."""
    codelist = SHARED_FIELD_CODELISTS.get(name)
    values = value if isinstance(value, list) else [value]
    if codelist:
        values = [codelists.label(codelist, code) for code in values if code]
    elif name == "birth_date" and value:
        try:
            values = [short_date(date.fromisoformat(str(value)))]
        except ValueError:
            values = [value]
    return ", ".join(str(item) for item in values if item)


def assistance_records(user: User, referral: Referral, channel: str = "") -> list[Assistance]:
    """The assistance delivered under a referral, for both sides; the descriptions may hold
    personal details, so reading them is audited."""
    records = list(referral.assistance.select_related("delivered_by", "delivering_agency"))
    if records:
        record_events(user, [AuditEvent(Action.READ, "assistance", referral.case.case_number,
                                        ("description",), f"referral {referral.pk}")],
                      channel)
    return records


def side_of(user: User, referral: Referral) -> str | None:
    """SENDER or RECIPIENT: which end of the referral `user` is at."""
    if referral_access.is_referral_recipient(user, referral):
        return RECIPIENT
    if referral_access.is_referral_sender(user, referral):
        return SENDER
    return None


def allowed_transitions(user: User, referral: Referral) -> list[str]:
    """The states `user` may move the referral to now (for the buttons on its page)."""
    side = side_of(user, referral)
    return [to_state for to_state, rule in transitions_of(referral).get(referral.state, {}).items()
            if rule.by == side]


def referral_consent(case: Case, recipient_agency: Agency | None) -> Consent | None:
    """The consent a referral to `recipient_agency` rests on: purpose "referral", in force,
    naming that agency or no agency. One naming the agency is preferred. Outside OpenNRM
    (`recipient_agency` None) only a consent naming no agency covers it."""
    in_force = case.consents.in_force().filter(purpose=REFERRAL_CONSENT).order_by(
        "-given_on", "-id")
    named = (in_force.filter(recipient_agency=recipient_agency).first()
             if recipient_agency is not None else None)
    return named or in_force.filter(recipient_agency__isnull=True).first()


def _missing_consent_message(case: Case, recipient_agency: Agency | None,
                             recipient_name: str) -> str:
    covering = Q(recipient_agency__isnull=True)
    if recipient_agency is not None:
        covering |= Q(recipient_agency=recipient_agency)
    withdrawn = (case.consents.filter(purpose=REFERRAL_CONSENT, withdrawn_on__isnull=False)
                 .filter(covering).order_by("-withdrawn_on").first())
    if withdrawn is not None:
        return _("The person withdrew their consent to be referred on %(date)s. No referral "
                 "may be sent until they give it again.") % {
                     "date": short_date(withdrawn.withdrawn_on)}
    if recipient_agency is None:
        return _("The person has not consented to be referred to %(agency)s. Record their "
                 "consent to be referred, naming no agency, first: a consent that names an "
                 "agency does not cover a service outside OpenNRM.") % {
                     "agency": recipient_name}
    return _("The person has not consented to be referred to %(agency)s. Record their "
             "consent to be referred first.") % {"agency": recipient_name}


def responsible_users(agency_id: int) -> QuerySet[User]:
    """The people of an agency who handle referrals (told of new ones and of changes)."""
    return User.objects.filter(agency_id=agency_id, is_active=True,
                               role__in=access.CASE_HANDLING_ROLES)


# --- validation ----------------------------------------------------------------------------

# --- referring -----------------------------------------------------------------------------

def refer_case(actor: User, case: Case, service: Service, shared_fields: Iterable[str] = (),
               needs: str = "", *, override_reason: str = "", channel: str = "") -> Referral:
    """Refer a case to a service: checks the person's referral consent for the receiving
    agency, stores what is shared, sets the answer deadline and tells the recipient.

    Without a consent in force, only a supervisor or national coordinator of the owning
    agency may send it, with `override_reason`; the override is audited.
    """
    access.ensure_can_edit(actor, case)
    errors: dict = {}
    shared, needs, override_reason = _clean_referral(shared_fields, needs, override_reason,
                                                     errors)
    provider = service.provider
    recipient = provider.agency
    if not (service.is_active and provider.is_active):
        errors["service"] = [_("This service no longer takes referrals.")]
    elif not takes_referrals_in_opennrm(service):
        errors["service"] = [_("This provider does not take referrals in OpenNRM: record the "
                               "referral as one outside OpenNRM and contact the provider "
                               "yourself.")]
    elif recipient.pk == case.owner_agency_id:
        errors["service"] = [_("This service belongs to your own agency: no referral is "
                               "needed.")]
    if errors:
        raise ValidationError(errors)
    return _create_referral(actor, case, service, recipient, shared, needs, override_reason,
                            channel)


def record_external_referral(actor: User, case: Case, service: Service,
                             shared_fields: Iterable[str] = (), needs: str = "", *,
                             follow_up_on: date | str | None = None, override_reason: str = "",
                             channel: str = "") -> Referral:
    """Record a referral to a service outside OpenNRM: the caseworker contacts the provider
    (the referral letter holds what is shared) and follows it up by `follow_up_on` (default:
    the service's answer time from today), recording its outcome.

    The consent rule is `refer_case`'s, with no receiving agency: a referral consent in force
    that names no agency, or a supervisor's audited override.
    """
    access.ensure_can_edit(actor, case)
    errors: dict = {}
    shared, needs, override_reason = _clean_referral(shared_fields, needs, override_reason,
                                                     errors)
    follow_up = clean_date(follow_up_on, "follow_up_on", errors)
    today = timezone.localdate()
    if follow_up is not None and follow_up < today:
        errors.setdefault("follow_up_on", []).append(_("The date is in the past."))
    elif follow_up is not None and follow_up > today + LONGEST_FOLLOW_UP:
        errors.setdefault("follow_up_on", []).append(
            _("Choose a day within a year from today."))
    provider = service.provider
    if not (service.is_active and provider.is_active):
        errors["service"] = [_("This service is no longer in the directory.")]
    elif provider.agency_id == case.owner_agency_id:
        errors["service"] = [_("This service belongs to your own agency: no referral is "
                               "needed.")]
    elif takes_referrals_in_opennrm(service):
        errors["service"] = [_("This service takes referrals in OpenNRM: send the referral "
                               "to it instead.")]
    if errors:
        raise ValidationError(errors)
    return _create_referral(actor, case, service, None, shared, needs, override_reason,
                            channel, follow_up_on=follow_up)


def _clean_referral(shared_fields, needs: str, override_reason: str,
                    errors: dict) -> tuple[list[str], str, str]:
    """What is shared (codes of SHARED_FIELDS, in their order), the note and the override
    reason, cleaned; the problems go into `errors`."""
    if not isinstance(shared_fields, (list, tuple, set, frozenset)):
        shared_fields = []
    shared = [name for name in SHARED_FIELDS if name in set(shared_fields)]
    unknown = sorted(str(name) for name in set(shared_fields) - set(SHARED_FIELDS))
    if unknown:
        errors["shared_fields"] = [_("These fields cannot be shared: %(fields)s.") % {
            "fields": ", ".join(unknown)}]
    needs = clean_text(needs, "needs", errors, limit=TextLimit.REASON)
    override_reason = clean_text(override_reason, "override_reason", errors,
                                 limit=TextLimit.REASON)
    return shared, needs, override_reason


def _create_referral(actor: User, case: Case, service: Service, recipient: Agency | None,
                     shared: list[str], needs: str, override_reason: str, channel: str, *,
                     follow_up_on: date | None = None) -> Referral:
    """Write a referral checked by `refer_case` or `record_external_referral`: the case open,
    no other open referral to the service, the consent (or an allowed override), its first
    event and audit entries, and the receiving agency told. Outside OpenNRM (`recipient`
    None), `follow_up_on` is its deadline."""
    recipient_name = recipient.name if recipient else service.provider.name
    with transaction.atomic():
        # The case row lock orders two referrals of the same case (the duplicate check).
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.is_closed:
            raise ValidationError({"case": [_("This case is closed. Reopen it to refer.")]})
        if case.referrals.filter(service=service, state__in=OPEN_STATES).exists():
            raise ValidationError({"service": [
                _("This case already has an open referral to this service.")]})
        consent = referral_consent(case, recipient)
        if consent is None:
            if not override_reason:
                raise ValidationError({"consent": [
                    _missing_consent_message(case, recipient, recipient_name)]})
            if not referral_access.can_override_referral_consent(actor, case):
                raise access.CaseAccessDenied(_(
                    "Only a supervisor or the national coordinator may refer without the "
                    "person's consent."))
        else:
            # A reason for overriding a consent that is there would mislead a later reader.
            override_reason = ""
        now = timezone.now()
        referral = Referral.objects.create(
            case=case, service=service, referring_agency=case.owner_agency,
            recipient_agency=recipient, external=recipient is None, referred_by=actor,
            consent=consent, consent_override_reason=override_reason, shared_fields=shared,
            needs=needs, state=ReferralState.SENT, sent_at=now,
            respond_by=follow_up_on or (timezone.localdate(now)
                                        + timedelta(days=service.response_days)))
        ReferralEvent.objects.create(referral=referral, to_state=ReferralState.SENT,
                                     actor=actor, agency=actor.agency, at=now)
        about = (f"referral {referral.pk} outside OpenNRM" if referral.external
                 else f"referral {referral.pk}")
        events = [AuditEvent(Action.CREATE, "referral", case.case_number,
                             ("service", "shared_fields", "needs"), about)]
        if consent is None:
            events.append(AuditEvent(Action.UPDATE, "referral", case.case_number,
                                     ("consent",),
                                     f"referral {referral.pk}: consent overridden"))
        record_events(actor, events, channel)
        _notify(referral, ReferralState.SENT)
    return referral


# --- changes of state ----------------------------------------------------------------------

# How a refused change is named in its message.
ACTION_WORDS = {
    ReferralState.ACCEPTED: gettext_lazy("accepted"),
    ReferralState.DECLINED: gettext_lazy("declined"),
    ReferralState.CANCELLED: gettext_lazy("cancelled"),
    ReferralState.WITHDRAWN: gettext_lazy("withdrawn"),
    ReferralState.COMPLETED: gettext_lazy("completed"),
    ReferralState.STOPPED: gettext_lazy("stopped"),
}


def _transition(actor: User, referral: Referral, to_state: str, reason: str, channel: str,
                *, side: str, outcome: str = "") -> Referral:
    """Move `referral` to `to_state` if its table (`transitions_of`) allows it from its
    current state; outside OpenNRM, with the `outcome` recorded.

    The row is locked and its state checked again inside the transaction, and the write is
    conditional on that state: of two concurrent answers exactly one wins, the other is
    refused like any change the current state does not allow.
    """
    errors: dict = {}
    reason = clean_text(reason, "reason", errors, limit=TextLimit.REASON)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current = Referral.objects.select_for_update().get(pk=referral.pk)
        from_state = current.state
        rule = transitions_of(current).get(from_state, {}).get(to_state)
        if outcome and OUTCOMES.get(from_state, {}).get(outcome) != to_state:
            rule = None
        if rule is None or rule.by != side:
            raise ValidationError({"state": [_(
                "A referral that is “%(current)s” cannot be %(action)s.") % {
                    "current": ReferralState(from_state).label,
                    "action": ACTION_WORDS[to_state]}]})
        if rule.reason_required and not (reason or outcome):
            raise ValidationError({"reason": [_("Give the reason.")]})
        now = timezone.now()
        changes = {"state": to_state}
        if from_state == ReferralState.SENT and to_state != ReferralState.STOPPED:
            changes["answered_at"] = now
        if to_state not in OPEN_STATES:
            changes["ended_at"] = now
        if outcome:
            changes["outcome"] = outcome
        if not Referral.objects.filter(pk=current.pk, state=from_state).update(**changes):
            raise ValidationError({"state": [_("Someone else changed this referral just now. "
                                               "Open it again to see its state.")]})
        for name, value in changes.items():
            setattr(referral, name, value)
        ReferralEvent.objects.create(referral=referral, from_state=from_state,
                                     to_state=to_state, actor=actor,
                                     agency=getattr(actor, "agency", None), at=now,
                                     reason=reason)
        record_events(actor, [AuditEvent(Action.UPDATE, "referral", referral.case.case_number,
                                         ("state", "outcome") if outcome else ("state",),
                                         f"referral {referral.pk}: {from_state} → {to_state}")],
                      channel)
        _notify(referral, to_state)
        clear_notifications(f"referral-{ReferralState.SENT}:{referral.pk}",  # no longer waiting
                            f"referral-follow-up:{referral.pk}:{current.respond_by}")
    return referral


def reason_required(to_state: str) -> bool:
    """Whether moving a referral in OpenNRM to `to_state` needs a reason (from any state);
    cancelling one outside OpenNRM needs one too."""
    return any(rules[to_state].reason_required for rules in TRANSITIONS.values()
               if to_state in rules)


def accept_referral(actor: User, referral: Referral, reason: str = "",
                    channel: str = "") -> Referral:
    """The receiving agency takes the person on. Of two concurrent answers, one wins."""
    referral_access.ensure_referral_recipient(actor, referral)
    return _transition(actor, referral, ReferralState.ACCEPTED, reason, channel, side=RECIPIENT)


def decline_referral(actor: User, referral: Referral, reason: str, channel: str = "") -> Referral:
    """The receiving agency cannot take the person on; the reason is required."""
    referral_access.ensure_referral_recipient(actor, referral)
    return _transition(actor, referral, ReferralState.DECLINED, reason, channel, side=RECIPIENT)


def withdraw_referral(actor: User, referral: Referral, reason: str, channel: str = "") -> Referral:
    """The receiving agency ends an accepted referral early; the reason is required."""
    referral_access.ensure_referral_recipient(actor, referral)
    return _transition(actor, referral, ReferralState.WITHDRAWN, reason, channel,
                       side=RECIPIENT)


def complete_referral(actor: User, referral: Referral, reason: str = "",
                      channel: str = "") -> Referral:
    """The receiving agency closes the referral after recording the assistance delivered."""
    referral_access.ensure_referral_recipient(actor, referral)
    if referral.state == ReferralState.ACCEPTED and not referral.assistance.exists():
        raise ValidationError({"state": [_(
            "Record the assistance delivered before closing the referral.")]})
    return _transition(actor, referral, ReferralState.COMPLETED, reason, channel,
                       side=RECIPIENT)


def cancel_referral(actor: User, referral: Referral, reason: str, channel: str = "") -> Referral:
    """The referring agency calls the referral off; the reason is required."""
    referral_access.ensure_referral_sender(actor, referral)
    return _transition(actor, referral, ReferralState.CANCELLED, reason, channel, side=SENDER)


def outcome_choices(user: User, referral: Referral) -> list[str]:
    """The outcomes `user` may record for `referral` now: outside OpenNRM, for the referring
    agency, those its state allows (assistance delivered once it was accepted)."""
    if not (referral.external and side_of(user, referral) == SENDER):
        return []
    possible = OUTCOMES.get(referral.state, {})
    return [code for code in codelists.entries(EXTERNAL_OUTCOMES) if code in possible]


def record_referral_outcome(actor: User, referral: Referral, outcome: str, note: str = "",
                            channel: str = "") -> Referral:
    """The referring caseworker records what became of a referral outside OpenNRM (a code of
    `external_referral_outcomes`): taken on, assistance delivered, declined, or no answer.
    Its follow-up deadline ends with it; `note` (optional) is kept with the change."""
    referral_access.ensure_referral_sender(actor, referral)
    if not referral.external:
        raise ValidationError({"outcome": [_(
            "The receiving agency answers this referral in OpenNRM: only a referral outside "
            "OpenNRM has its outcome recorded by the referring agency.")]})
    if outcome not in codelists.entries(EXTERNAL_OUTCOMES):
        raise ValidationError({"outcome": [_("Choose what became of the referral.")]})
    # Refused in `_transition`, with the state it finds, when that state does not allow it.
    to_state = (OUTCOMES.get(referral.state, {}).get(outcome)
                or OUTCOMES[ReferralState.SENT].get(outcome))
    if to_state is None:  # a code of the list the state machine does not know
        raise ValidationError({"outcome": [_("Choose what became of the referral.")]})
    return _transition(actor, referral, to_state, note, channel, side=SENDER, outcome=outcome)


@receiver(consent_withdrawn, dispatch_uid="referrals-stop-on-consent-withdrawal")
def stop_referrals_on_consent_withdrawal(sender, consent: Consent, actor: User | None,
                                         channel: str = "", **kwargs) -> None:
    """Consent withdrawn: every open referral resting on it stops, and its recipient is
    told that their access has ended (it already has: access is checked on every read)."""
    for referral in (consent.referrals.filter(state__in=OPEN_STATES)
                     .select_related("case", "service")):
        _transition(actor, referral, ReferralState.STOPPED, "", channel, side=SYSTEM)


def referrals_stopped_by_withdrawal(consent: Consent) -> list[str]:
    """What withdrawing `consent` would stop here (registered with `cases.consent_effects`):
    the open referrals resting on it, whose recipients then lose the shared data."""
    services = sorted(consent.referrals.filter(state__in=OPEN_STATES)
                      .values_list("service__name", flat=True))
    if not services:
        return []
    return [ngettext(
        "%(count)d open referral will stop, and its recipient will no longer see the shared "
        "data: %(services)s.",
        "%(count)d open referrals will stop, and their recipients will no longer see the "
        "shared data: %(services)s.", len(services)) % {
        "count": len(services), "services": ", ".join(dict.fromkeys(services))}]


@receiver(transfer_changed, dispatch_uid="referrals-follow-a-transferred-case")
def hand_referrals_to_new_owner(sender, transfer, actor: User | None = None,
                                channel: str = "", **kwargs) -> None:
    """A case transferred: the open referrals its former owner made are the new owner's to
    follow (answers, assistance, the follow-up deadline); closed ones stay as they were."""
    if transfer.state != "accepted":
        return
    moved = (Referral.objects.filter(case_id=transfer.case_id, state__in=OPEN_STATES,
                                     referring_agency_id=transfer.from_agency_id)
             .update(referring_agency_id=transfer.to_agency_id))
    if moved:
        record_events(actor, [AuditEvent(Action.UPDATE, "referral", transfer.case.case_number,
                                         ("referring_agency",),
                                         f"case transferred: {moved} open referrals moved")],
                      channel)


def _notify(referral: Referral, state: str) -> None:
    if referral.external:
        # No one in OpenNRM receives it: the referring caseworker made every other change.
        if state == ReferralState.STOPPED:
            notify([referral.referred_by], f"referral_{state}", _EXTERNAL_STOPPED,
                   key=f"referral-{state}:{referral.pk}",
                   case_number=referral.case.case_number,
                   link=reverse("referral-detail", args=[referral.pk]),
                   params={"case_number": referral.case.case_number,
                           "service": referral.service.name})
        return
    side, message = _NOTICES[state]
    if side == RECIPIENT:
        people = list(responsible_users(referral.recipient_agency_id))
    else:
        people = [referral.referred_by]
    notify(people, f"referral_{state}", message, key=f"referral-{state}:{referral.pk}",
           case_number=referral.case.case_number,
           link=reverse("referral-detail", args=[referral.pk]),
           params={"case_number": referral.case.case_number, "service": referral.service.name})


# --- the referral letter -------------------------------------------------------------------

def print_referral_letter(user: User, referral_id: int, channel: str = "") -> bytes:
    """The referral letter of a referral outside OpenNRM, as a PDF for its referring agency
    to give the provider: the shared fields and nothing else of the person, the service's
    contact details, the referring agency and the date, under a privacy marking.

    Only while the referral is open and the consent it rests on in force (what the recipient
    in OpenNRM could see then). Printing is audited as an export naming the fields printed.
    """
    from opennrm.referrals import letter  # WeasyPrint loads only when someone prints

    referral = get_referral(user, referral_id)
    referral_access.ensure_referral_sender(user, referral)
    if not referral.external:
        raise ValidationError({"referral": [_(
            "Only a referral outside OpenNRM has a letter: the receiving agency reads this "
            "one in OpenNRM.")]})
    if not referral_access.may_share_now(referral):
        raise ValidationError({"referral": [_(
            "The referral is no longer open, or the person withdrew their consent: its letter "
            "can no longer be printed.")]})
    shared = _shared_values(referral)
    rows = [(_("What the person needs") if name == "needs" else SHARED_FIELDS[name],
             shared_value_text(name, value)) for name, value in shared.items()]
    pdf = printing.render_pdf(letter.letter_html(user, referral, rows))
    record_events(user, [AuditEvent(Action.EXPORT, "referral", referral.case.case_number,
                                    tuple(shared), f"referral {referral.pk}: letter")],
                  channel)
    return pdf


# --- assistance ----------------------------------------------------------------------------

def record_assistance(actor: User, referral: Referral, service_type: str, description: str,
                      delivered_on, channel: str = "") -> Assistance:
    """Record assistance the receiving agency delivered, while the referral is accepted."""
    referral_access.ensure_referral_recipient(actor, referral)
    errors: dict = {}
    if service_type not in codelists.entries("service_types"):
        errors["service_type"] = [_("Choose the kind of assistance.")]
    description = clean_text(description, "description", errors, limit=TextLimit.REASON,
                             required=_("Describe the assistance delivered."))
    day = clean_date(delivered_on, "delivered_on", errors,
                     required=_("Enter a date as YYYY-MM-DD."), not_in_future=True)
    if day and day < timezone.localdate(referral.sent_at):
        errors.setdefault("delivered_on", []).append(
            _("The date is before the referral was sent."))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        state = Referral.objects.select_for_update().values_list("state", flat=True).get(
            pk=referral.pk)
        if state != ReferralState.ACCEPTED:
            raise ValidationError({"state": [_(
                "Assistance can be recorded only while the referral is accepted.")]})
        record = Assistance.objects.create(
            referral=referral, service_type=service_type, description=description,
            delivered_on=day, delivered_by=actor, delivering_agency=actor.agency)
        record_events(actor, [AuditEvent(Action.CREATE, "assistance", referral.case.case_number,
                                         ("service_type", "description", "delivered_on"),
                                         f"referral {referral.pk}")], channel)
    return record
