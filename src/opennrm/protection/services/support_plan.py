"""The person's support plan: objectives, actions and reviews."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from opennrm.accounts.models import User
from opennrm.audit.models import Action
from opennrm.cases import access
from opennrm.cases.models import Case
from opennrm.core.dates import short_date
from opennrm.core.validation import TextLimit
from opennrm.protection.models import SupportAction, SupportPlan, SupportPlanStatus, SupportReview
from opennrm.protection.services.common import (
    UNCHANGED,
    _agency,
    _audit,
    _date,
    _open_case,
    _raise,
    _text,
)


def _review_date(value, field: str, after: datetime.date | None, errors: dict):
    day = _date(value, field, errors, past=False)
    if day and after and day <= after:
        errors.setdefault(field, []).append(
            _("The next review must be after %(date)s.") % {"date": short_date(after)})
    return day


def _active_plan(plan: SupportPlan) -> SupportPlan:
    _open_case(plan.case)
    plan = SupportPlan.objects.select_for_update().get(pk=plan.pk)
    if not plan.is_active:
        raise ValidationError({"plan": [_("This support plan is closed. Reopen it first.")]})
    return plan


def create_support_plan(actor: User, case: Case, objectives: str, agreed_on,
                        responsible_agency_code: str = "", next_review_on=None,
                        channel: str = "") -> SupportPlan:
    """Record the person's support plan with this agency (one per case); the responsible
    agency is the actor's own unless named."""
    access.ensure_can_edit(actor, case)
    errors: dict = {}
    objectives = _text(objectives, "objectives", errors)
    if not objectives and "objectives" not in errors:
        errors["objectives"] = [_("Write the objectives agreed with the person.")]
    agreed = _date(agreed_on, "agreed_on", errors,
                   required=_("Give the date the plan was agreed."))
    agency = _agency(responsible_agency_code, "responsible_agency", errors) or actor.agency
    review = _review_date(next_review_on, "next_review_on", agreed, errors)
    _raise(errors)
    with transaction.atomic():
        case = _open_case(case)
        if SupportPlan.objects.filter(case=case).exists():
            raise ValidationError({"plan": [
                _("This case already has a support plan: change it instead.")]})
        plan = SupportPlan.objects.create(
            case=case, objectives=objectives, agreed_on=agreed, responsible_agency=agency,
            next_review_on=review, created_by=actor)
        _audit(actor, Action.CREATE, "support_plan", case,
               ("objectives", "responsible_agency", "next_review_on"), channel)
    return plan


def update_support_plan(actor: User, plan: SupportPlan, *, objectives=UNCHANGED,
                        responsible_agency_code=UNCHANGED, next_review_on=UNCHANGED,
                        status=UNCHANGED, channel: str = "") -> SupportPlan:
    """Change the objectives, the responsible agency or the next review, or close or
    reopen the plan; only what is given changes, and only changes are audited."""
    access.ensure_can_edit(actor, plan.case)
    errors: dict = {}
    changes: dict = {}
    if objectives is not UNCHANGED:
        changes["objectives"] = _text(objectives, "objectives", errors)
        if not changes["objectives"] and "objectives" not in errors:
            errors["objectives"] = [_("Write the objectives agreed with the person.")]
    if responsible_agency_code is not UNCHANGED:
        agency = _agency(responsible_agency_code, "responsible_agency", errors)
        if agency is None and "responsible_agency" not in errors:
            errors["responsible_agency"] = [_("Choose the responsible agency.")]
        changes["responsible_agency"] = agency
    if next_review_on is not UNCHANGED:
        changes["next_review_on"] = _review_date(next_review_on, "next_review_on",
                                                 plan.agreed_on, errors)
    if status is not UNCHANGED:
        if status not in SupportPlanStatus.values:
            errors["status"] = [_("Choose active or closed.")]
        changes["status"] = status
    _raise(errors)
    with transaction.atomic():
        _open_case(plan.case)
        plan = SupportPlan.objects.select_for_update().get(pk=plan.pk)
        changed = [name for name, value in changes.items() if getattr(plan, name) != value]
        for name in changed:
            setattr(plan, name, changes[name])
        if "status" in changed:
            plan.closed_on = (timezone.localdate() if plan.status == SupportPlanStatus.CLOSED
                              else None)
        if changed:
            plan.save()
            _audit(actor, Action.UPDATE, "support_plan", plan.case, changed, channel)
    return plan


def add_support_action(actor: User, plan: SupportPlan, description: str,
                       responsible_agency_code: str = "", due_on=None,
                       channel: str = "") -> SupportAction:
    """Add an action to an active plan: what is to be done, by which agency, by when."""
    access.ensure_can_edit(actor, plan.case)
    errors: dict = {}
    description = _text(description, "description", errors, TextLimit.NOTE)
    if not description and "description" not in errors:
        errors["description"] = [_("Describe the action.")]
    agency = _agency(responsible_agency_code, "responsible_agency", errors) or actor.agency
    due = _date(due_on, "due_on", errors, past=False)
    _raise(errors)
    with transaction.atomic():
        plan = _active_plan(plan)
        action = SupportAction.objects.create(plan=plan, description=description,
                                              responsible_agency=agency, due_on=due,
                                              recorded_by=actor)
        _audit(actor, Action.UPDATE, "support_plan", plan.case,
               ("actions.description", "actions.responsible_agency", "actions.due_on"),
               channel)
    return action


def complete_support_action(actor: User, action: SupportAction, done_on,
                            channel: str = "") -> SupportAction:
    """Mark an action of the plan as done."""
    access.ensure_can_edit(actor, action.plan.case)
    errors: dict = {}
    done = _date(done_on, "done_on", errors, required=_("Give the date the action was done."))
    _raise(errors)
    with transaction.atomic():
        plan = _active_plan(action.plan)
        action = SupportAction.objects.select_for_update().get(pk=action.pk)
        if action.done_on:
            raise ValidationError({"done_on": [_("This action is already done.")]})
        action.done_on = done
        action.save(update_fields=["done_on"])
        _audit(actor, Action.UPDATE, "support_plan", plan.case, ("actions.done_on",), channel)
    return action


def record_support_review(actor: User, plan: SupportPlan, reviewed_on, note: str = "",
                          next_review_on=None, channel: str = "") -> SupportReview:
    """Record a review of the plan with the person, and when the next one is due."""
    access.ensure_can_edit(actor, plan.case)
    errors: dict = {}
    reviewed = _date(reviewed_on, "reviewed_on", errors,
                     required=_("Give the date of the review."))
    if reviewed and reviewed < plan.agreed_on:
        errors.setdefault("reviewed_on", []).append(
            _("The review cannot be before the plan was agreed."))
    note = _text(note, "note", errors)
    review_date = _review_date(next_review_on, "next_review_on", reviewed, errors)
    _raise(errors)
    with transaction.atomic():
        plan = _active_plan(plan)
        review = SupportReview.objects.create(plan=plan, reviewed_on=reviewed, note=note,
                                              next_review_on=review_date, reviewed_by=actor)
        plan.next_review_on = review_date
        plan.save(update_fields=["next_review_on", "updated_at"])
        _audit(actor, Action.UPDATE, "support_plan", plan.case,
               ("reviews.note", "next_review_on"), channel)
    return review
