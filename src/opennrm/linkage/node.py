"""The node's linkage job: the coordinator's policy and a run over the whole register.

A run decrypts the identity of every person with a case in memory only, scores every pair
the model's blocking rules generate (`register.dedupe`), and for each pair from the
policy's `review_from` up whose persons are not already counted as one:

* a pair decided before (rejected, or its link removed later) is left alone: a person said
  no, and the job never says otherwise;
* from `automatic_link_from` up (once the coordinator set it) the two cases are linked with
  the existing same-person link (`cases.same_person.link_same_person`) in the name of the
  coordinator who set the policy, so validation and audit are a caseworker's; a pair that
  cannot be linked that way waits for review instead;
* otherwise the pair waits for review (an existing waiting pair gets the new score).

The run records its counts, the model version and the thresholds it used; one audit entry
says that it read the identities. A failure marks the run failed with the reason.
"""

import logging
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from opennrm.accounts.models import User
from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_event, record_events
from opennrm.cases import access as case_access
from opennrm.cases.models import Case, Person
from opennrm.cases.same_person import link_same_person, may_change_links
from opennrm.linkage import access, register
from opennrm.linkage.identities import DECRYPTED_FIELDS, comparisons_of, register_records
from opennrm.linkage.models import (
    UNDECIDED,
    CandidatePair,
    LinkagePolicy,
    LinkageRun,
    Origin,
    PairState,
    RunStatus,
    Trigger,
)

_log = logging.getLogger("opennrm.linkage")
CHANNEL = "linkage"
# A run still "running" after this long died with its process: a new one may start.
STALE_RUN_AFTER = timedelta(hours=6)
LOWEST_REVIEW_FROM = 0.5  # the model writes no pair below (`pairs_written_from`)


# --- the policy ----------------------------------------------------------------------------

def _probability(value, name: str, errors: dict) -> float | None:
    if value in (None, ""):
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        errors[name] = [_("Enter a probability between 0 and 1, such as 0.95.")]
        return None
    if not 0 < value <= 1:
        errors[name] = [_("Enter a probability between 0 and 1, such as 0.95.")]
        return None
    return value


def set_policy(user: User, *, automatic_link_from, review_from, nightly: bool,
               channel: str = "web") -> LinkagePolicy:
    """Change the thresholds and the nightly run (the national coordinator)."""
    access.ensure_coordinator(user)
    errors: dict = {}
    automatic = _probability(automatic_link_from, "automatic_link_from", errors)
    review = _probability(review_from, "review_from", errors)
    if review is None and "review_from" not in errors:
        errors["review_from"] = [_("Enter the probability from which pairs are reviewed.")]
    elif review is not None and review < LOWEST_REVIEW_FROM:
        errors["review_from"] = [_("The model proposes no pair below 0.5: enter 0.5 or more.")]
    if automatic is not None and review is not None and automatic <= review:
        errors["automatic_link_from"] = [
            _("Link automatically only above the review threshold, or leave it empty.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        policy = LinkagePolicy.current()
        policy.automatic_link_from = automatic
        policy.review_from = review
        policy.nightly = bool(nightly)
        policy.changed_by = user
        policy.changed_at = timezone.now()
        policy.save()
        record_event(user, AuditEvent(
            Action.UPDATE, "linkage_policy", str(policy.pk),
            ("automatic_link_from", "review_from", "nightly"),
            f"automatic from {automatic if automatic is not None else 'never'}, review from "
            f"{review}, nightly {'on' if policy.nightly else 'off'}"), channel)
    return policy


# --- a run ---------------------------------------------------------------------------------

def recent_runs(user: User, limit: int = 10) -> list[LinkageRun]:
    access.ensure_coordinator(user)
    return list(LinkageRun.objects.select_related("started_by")[:limit])


def run_linkage(actor: User | None, trigger: str, channel: str = "web") -> LinkageRun:
    """Run the job now (`actor`: the coordinator, or None for the nightly run). Returns
    the run, finished or failed; it never raises for a failure of the job itself."""
    if trigger == Trigger.ON_DEMAND or actor is not None:
        access.ensure_coordinator(actor)
    policy = LinkagePolicy.current()
    if LinkageRun.objects.filter(status=RunStatus.RUNNING,
                                 started_at__gte=timezone.now() - STALE_RUN_AFTER
                                 ).exists():
        raise ValidationError(_("A linkage run is already under way. Wait until it ends."))
    run = LinkageRun.objects.create(trigger=trigger, started_by=actor,
                                    review_from=policy.review_from,
                                    automatic_link_from=policy.automatic_link_from)
    try:
        _run(run, policy, actor, channel)
    except Exception as error:  # noqa: BLE001 - the run records any failure and goes on
        _log.exception("linkage run %s failed", run.pk)
        run.status = RunStatus.FAILED
        run.failure_reason = f"{type(error).__name__}: {error}"[:1000]
    else:
        run.status = RunStatus.FINISHED
    run.finished_at = timezone.now()
    run.save()
    return run


def _run(run: LinkageRun, policy: LinkagePolicy, actor: User | None, channel: str) -> None:
    records = list(register_records())
    record_event(actor, AuditEvent(Action.READ, "linkage_run", str(run.pk), DECRYPTED_FIELDS,
                                   f"{len(records)} persons compared"), channel)
    result = register.dedupe(records, explain=True)
    run.persons_compared = len(records) - len(result.unreadable)
    run.unreadable = len(result.unreadable)
    run.pairs_scored = len(result.pairs)
    run.model_version = result.model_version
    counted = dict(Person.objects.filter(pk__in=[int(r["record_id"]) for r in records])
                   .values_list("pk", "statistical_person_id"))
    existing = {(pair.person_id, pair.other_person_id): pair
                for pair in CandidatePair.objects.select_related("link")}
    for scored in result.pairs:
        if scored.match_probability < policy.review_from:
            break  # the pairs come most probable first
        first, second = sorted((int(scored.record_id_1), int(scored.record_id_2)))
        if (counted[first] or first) == (counted[second] or second):
            continue  # already counted as one person
        pair = existing.get((first, second))
        if pair is not None and pair.state not in UNDECIDED:
            continue  # decided by a person, or linked and the link removed since
        pair = _propose(run, pair, first, second, scored)
        automatic = policy.automatic_link_from
        if (automatic is not None and scored.match_probability >= automatic
                and pair.state == PairState.PENDING
                and _link_automatically(pair, policy.changed_by, channel)):
            run.linked_automatically += 1
            # The link joined two groups of persons: all of them are now counted as one.
            joined = Person.objects.get(pk=first).statistical_person_id
            counted.update(Person.objects.filter(statistical_person_id=joined)
                           .values_list("pk", "statistical_person_id"))
        else:
            run.sent_to_review += 1


def _propose(run: LinkageRun, pair: CandidatePair | None, first: int, second: int,
             scored) -> CandidatePair:
    """A new waiting pair, or a waiting one with the new score (a deferred pair stays
    deferred)."""
    values = {"run": run, "match_probability": scored.match_probability,
              "match_weight": scored.match_weight, "comparisons": comparisons_of(scored)}
    if pair is None:
        return CandidatePair.objects.create(person_id=first, other_person_id=second,
                                            origin=Origin.RUN, **values)
    for name, value in values.items():
        setattr(pair, name, value)
    pair.save(update_fields=list(values))
    return pair


def cases_to_link(user: User, pair: CandidatePair) -> tuple[Case, Case]:
    """A case of one person that `user` may link, and a case of the other that `user` may
    link it to (`link_same_person`'s own rules). ValidationError when there is none."""
    cases = list(Case.objects.filter(person_id__in=[pair.person_id, pair.other_person_id])
                 .select_related("owner_agency").order_by("registered_at", "pk"))
    for case in cases:
        if not may_change_links(user, case):
            continue
        for other in cases:
            if other.person_id == case.person_id:
                continue
            try:
                case_access.get_case_for_same_person_link(user, other.case_number)
            except case_access.CaseNotFound:
                continue
            return case, other
    raise ValidationError(_("You may not link any case of one of these persons to a case of "
                            "the other. A supervisor of the agencies that registered them "
                            "can link them."))


def link_pair(user: User, pair: CandidatePair, reason: str, channel: str):
    """The same-person link between the pair's persons, made through the one write path."""
    case, other = cases_to_link(user, pair)
    return link_same_person(user, case, other.case_number, reason=reason, channel=channel)


def _link_automatically(pair: CandidatePair, coordinator: User | None, channel: str) -> bool:
    """Link a clear pair in the name of the coordinator who set the threshold. False (the
    pair waits for review) when that cannot be done."""
    if coordinator is None:
        return False
    reason = _("Linked automatically: match probability %(probability).4f.") % {
        "probability": pair.match_probability}
    try:
        with transaction.atomic():
            link = link_pair(coordinator, pair, reason, channel)
            pair.state = PairState.LINKED_AUTOMATICALLY
            pair.link = link
            pair.decided_at = timezone.now()
            pair.save(update_fields=["state", "link", "decided_at"])
            record_events(coordinator, [AuditEvent(
                Action.UPDATE, "candidate_pair", str(pair.pk), ("state",),
                "linked automatically")], channel)
    except (ValidationError, case_access.CaseNotFound, case_access.CaseAccessDenied):
        return False
    return True
