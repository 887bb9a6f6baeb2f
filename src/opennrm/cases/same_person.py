"""Same person as: links between cases of one person registered as separate persons.

The NGO, the police and the social service often each register the same person. Statistics
count persons, so a caseworker links such cases; `Person.statistical_person_id` then holds
the person counted for all of them: the smallest person id among the persons joined by
active links, or NULL for a person linked to no one (the statistics count
COALESCE(statistical_person_id, id)). Every link and every removal recomputes it for the
persons it touches, so it is always exact.

Who may link: whoever may edit the case and can see the other one, or holds an open referral
of it (the shelter links its own record of a person referred to it); the national
coordinator any two cases it can see. A case the user cannot see answers exactly like a
case number that does not exist. Each function validates, writes and audits in one transaction.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from opennrm.accounts.models import User
from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_events
from opennrm.cases import access
from opennrm.cases.models import Case, Person, SamePersonLink
from opennrm.core.validation import TextLimit, check_length, is_storable_text

# The field names the audit trail records for a link and its encrypted reasons.
AUDIT_FIELD = "same_person_as"
AUDIT_REASON = "same_person_as.reason"
AUDIT_REMOVAL_REASON = "same_person_as.removal_reason"
_ENCRYPTED = ("reason", "removal_reason", "case__notes", "same_as_case__notes")


# --- who may link --------------------------------------------------------------------------

def may_change_links(user: User, case: Case) -> bool:
    """Whether the case page offers `user` the forms to link and remove links."""
    try:
        access.ensure_can_change_same_person_links(user, case)
    except (access.CaseNotFound, access.CaseAccessDenied):
        return False
    return True


# --- validation ----------------------------------------------------------------------------

def _clean_reason(value, field: str, errors: dict, *, required: bool) -> str:
    value = value or ""
    if not isinstance(value, str) or not is_storable_text(value):
        errors.setdefault(field, []).append(_("Enter text."))
        return ""
    value = value.strip()
    if required and not value:
        errors.setdefault(field, []).append(_("Give the reason for removing the link."))
    check_length(value, field, errors, limit=TextLimit.REASON)
    return value


def _other_case(user: User, case_number, errors: dict) -> Case | None:
    """The case the user typed, if the user may see it (or holds an open referral of it). A
    case of another agency gets the same message as a number that does not exist: nothing
    tells them apart."""
    number = case_number.strip().upper() if isinstance(case_number, str) else ""
    if not number:
        errors["same_as_case"] = [_("Enter the case number of the other case.")]
        return None
    try:
        return access.get_case_for_same_person_link(user, number)
    except access.CaseNotFound:
        errors["same_as_case"] = [_("There is no case with this number that you may see.")]
        return None


def _active_link_between(case: Case, other: Case) -> QuerySet[SamePersonLink]:
    return SamePersonLink.objects.filter(
        Q(case=case, same_as_case=other) | Q(case=other, same_as_case=case),
        removed_at__isnull=True)


# --- the person counted for statistics -----------------------------------------------------

def _component(person_id: int) -> set[int]:
    """The persons joined to `person_id` by active links through their cases (a plain
    breadth-first search: components are a handful of persons)."""
    seen, frontier = {person_id}, {person_id}
    while frontier:
        pairs = SamePersonLink.objects.filter(
            Q(case__person_id__in=frontier) | Q(same_as_case__person_id__in=frontier),
            removed_at__isnull=True,
        ).values_list("case__person_id", "same_as_case__person_id")
        frontier = {person for pair in pairs for person in pair} - seen
        seen |= frontier
    return seen


def _recount(person_ids: set[int]) -> None:
    """Set `statistical_person_id` on every person of the components holding `person_ids`.

    The persons of those components are locked first, and the components found again until
    no new person turns up: a concurrent link or removal touching them waits for this one,
    so two of them cannot each leave a stale value behind.
    """
    locked: set[int] = set()
    while True:
        components: list[set[int]] = []
        for person_id in sorted(person_ids):
            if not any(person_id in component for component in components):
                components.append(_component(person_id))
        members = set().union(*components)
        if members <= locked:
            break
        list(Person.objects.select_for_update().filter(pk__in=members - locked)
             .order_by("pk").values_list("pk", flat=True))
        locked |= members
    for component in components:
        persons = Person.objects.filter(pk__in=component)
        if len(component) == 1:  # linked to no one: counted as itself
            persons.filter(statistical_person_id__isnull=False).update(
                statistical_person_id=None)
        else:
            persons.exclude(statistical_person_id=min(component)).update(
                statistical_person_id=min(component))


def counted_person_id(person: Person) -> int:
    """The id under which the statistics count `person`."""
    return person.statistical_person_id or person.pk


# --- links ---------------------------------------------------------------------------------

def link_same_person(user: User, case: Case, other_case_number: str, reason: str = "",
                     channel: str = "web") -> SamePersonLink:
    """Record that `case` and the case numbered `other_case_number` are about the same
    person; both persons (and any already linked to them) are then counted as one."""
    access.ensure_can_change_same_person_links(user, case)
    errors: dict = {}
    other = _other_case(user, other_case_number, errors)
    reason = _clean_reason(reason, "reason", errors, required=False)
    if other is not None and other.pk == case.pk:
        errors["same_as_case"] = [_("A case cannot be linked to itself.")]
    elif other is not None and other.person_id == case.person_id:
        errors["same_as_case"] = [
            _("Both cases are already recorded for one person: there is nothing to link.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        # Lock both persons: two people linking the same pair at once meet here.
        list(Person.objects.select_for_update().filter(pk__in=[case.person_id, other.person_id])
             .order_by("pk").values_list("pk", flat=True))
        if _active_link_between(case, other).exists():
            raise ValidationError({"same_as_case": [
                _("These two cases are already linked as the same person.")]})
        try:
            with transaction.atomic():
                link = SamePersonLink.objects.create(case=case, same_as_case=other,
                                                     reason=reason, recorded_by=user)
        except IntegrityError:  # linked by someone else a moment ago (SQLite has no locks)
            raise ValidationError({"same_as_case": [
                _("These two cases are already linked as the same person.")]}) from None
        _recount({case.person_id, other.person_id})
        fields = (AUDIT_FIELD, AUDIT_REASON) if reason else (AUDIT_FIELD,)
        record_events(user, [
            AuditEvent(Action.UPDATE, "case", case.case_number, fields,
                       f"same person as {other.case_number}"),
            AuditEvent(Action.UPDATE, "case", other.case_number, fields,
                       f"same person as {case.case_number}"),
        ], channel)
    return link


def remove_same_person_link(user: User, link: SamePersonLink, reason: str,
                            channel: str = "web") -> SamePersonLink:
    """Remove a wrong link, giving the reason. The link stays, marked removed; the persons
    it joined are counted apart again unless other links still join them."""
    cases = (link.case, link.same_as_case)
    visible = set(access.cases_visible_to(user).filter(pk__in=[c.pk for c in cases])
                  .values_list("pk", flat=True))
    for side in cases:
        if side.pk not in visible:
            # Another agency's case a registered grant opens to `user` for such links (the
            # coordinator splitting a pair of possible duplicates it linked): as if seen.
            access.get_case_for_same_person_link(user, side.case_number)
    if not any(may_change_links(user, side) for side in cases):
        raise access.CaseAccessDenied(_("You may read this case but not change it."))
    errors: dict = {}
    reason = _clean_reason(reason, "removal_reason", errors, required=True)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        list(Person.objects.select_for_update()
             .filter(pk__in=[side.person_id for side in cases])
             .order_by("pk").values_list("pk", flat=True))
        # Only an active link is removed, so two people removing it at once cannot both do.
        removed = SamePersonLink.objects.filter(pk=link.pk, removed_at__isnull=True).update(
            removed_at=timezone.now(), removed_by=user, removal_reason=reason)
        if not removed:
            raise ValidationError({"removal_reason": [_("This link was already removed.")]})
        link.refresh_from_db(fields=["removed_at", "removed_by", "removal_reason"])
        _recount({side.person_id for side in cases})
        fields = (AUDIT_FIELD, AUDIT_REMOVAL_REASON)
        record_events(user, [
            AuditEvent(Action.UPDATE, "case", link.case.case_number, fields,
                       f"no longer the same person as {link.same_as_case.case_number}"),
            AuditEvent(Action.UPDATE, "case", link.same_as_case.case_number, fields,
                       f"no longer the same person as {link.case.case_number}"),
        ], channel)
    return link


# --- reading -------------------------------------------------------------------------------

def _visible_links(user: User, case: Case) -> QuerySet[SamePersonLink]:
    """Active links of `case` whose other case `user` may see; CaseNotFound if `user` may not
    see `case` itself."""
    access.ensure_visible(user, case)
    visible = access.cases_visible_to(user)
    return (SamePersonLink.objects.filter(removed_at__isnull=True)
            .filter(Q(case=case, same_as_case__in=visible)
                    | Q(same_as_case=case, case__in=visible))
            .select_related("case__owner_agency", "same_as_case__owner_agency", "recorded_by"))


def _with_other_case(links, case: Case) -> list[SamePersonLink]:
    links = list(links)
    for link in links:
        link.other_case = link.same_as_case if link.case_id == case.pk else link.case
    return links


def same_person_links(user: User, case: Case) -> list[SamePersonLink]:
    """The active links of `case` to cases `user` may see, each with `other_case`. Links to
    cases `user` cannot see are left out without a trace (not even a count). Nothing
    encrypted is read, so the case page's own read entry covers showing them."""
    if case.person.statistical_person_id is None:
        # Linked to no one (`_recount` keeps this exact, and two cases of one person are
        # never linked): the case page of nearly every case needs no query for its links.
        access.ensure_visible(user, case)
        return []
    return _with_other_case(_visible_links(user, case).defer(*_ENCRYPTED), case)


def read_same_person_links(user: User, case: Case, channel: str = "api") -> list[SamePersonLink]:
    """`same_person_links` with the reasons given for them (for roles that may see who the
    person is: a reason may describe them), recording the read in the audit trail."""
    with_reasons = access.can_see_identity(user)
    deferred = ("removal_reason", "case__notes", "same_as_case__notes")
    links = _visible_links(user, case).defer(*(deferred if with_reasons else _ENCRYPTED))
    fields = (AUDIT_FIELD, AUDIT_REASON) if with_reasons else (AUDIT_FIELD,)
    record_events(user, [AuditEvent(Action.READ, "case", case.case_number, fields)], channel)
    return _with_other_case(links, case)
