"""Protection pages: the case page's Protection and Proceedings sections, a form page for
each step and the support plan. Every write goes through
`protection.services`; every page that shows encrypted text records the read."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opennrm.cases import access
from opennrm.cases.views import case_view
from opennrm.core import codelists
from opennrm.core.forms import add_service_errors
from opennrm.protection import forms, services
from opennrm.protection.models import PermitStatus, SupportPlan
from opennrm.protection.services.proceedings import KEPT_STAGE_MESSAGE

CHANNEL = "web"


def protection_context(user, case, present) -> dict:
    """What the case page's Protection and Proceedings sections show to `user` (nothing
    encrypted is read: the detail pages show it, and record that they did); `present` names
    the case's lists that hold rows (`relations_with_rows`): the others are not read."""
    today = timezone.localdate()
    period = None
    if "reflection_periods" in present:
        period = case.reflection_periods.select_related("deciding_agency").first()
    if period is not None:
        period.days_left_today = period.days_left(today)
    permits = []
    if "residence_permits" in present:
        permits = list(case.residence_permits.select_related("deciding_agency"))
    for permit in permits:
        permit.expired_by_date = (permit.status == PermitStatus.GRANTED and permit.expires_on
                                  and permit.expires_on < today)
    plan = None
    if "support_plan" in present:
        plan = (SupportPlan.objects.filter(case=case).defer("objectives")
                .select_related("responsible_agency").first())
    if plan is not None:
        actions = list(plan.actions.defer("description"))
        plan.open_actions = sum(1 for action in actions if not action.is_done)
        plan.overdue_actions = sum(1 for action in actions
                                   if not action.is_done and action.due_on
                                   and action.due_on < today)
        plan.review_overdue = bool(plan.next_review_on and plan.next_review_on < today)
    return {
        "reflection_period": period,
        "reflection_minimum_days": services.minimum_reflection_days(),
        "residence_permits": permits,
        "return_plans": (list(case.return_plans.defer(*services.RETURN_SECRETS))
                         if "return_plans" in present else []),
        "support_plan": plan,
        "proceedings": (list(case.proceedings.defer(*services.PROCEEDING_SECRETS)
                             .select_related("deciding_agency"))
                        if "proceedings" in present else []),
        "compensation_claims": (list(case.compensation_claims.select_related("deciding_agency"))
                                if "compensation_claims" in present else []),
        "may_record_protection": access.can_edit_case(user, case) and not case.is_closed,
    }


def _editable_case(user, case_number: str):
    case = access.get_visible_case(user, case_number)
    access.ensure_can_edit(user, case)
    return case


def _step_page(request, case, form, perform: Callable[[dict], object], *, title: str,
               intro: str, submit: str, done: str, details: list | None = None,
               anchor: str = "stage-protection", back: str = ""):
    """Render a step's form; on a valid POST call `perform(cleaned_data)` and go `back`
    (the case page's section by default), or show the service's messages beside their
    fields."""
    back = back or f"{reverse('case-detail', args=[case.case_number])}#{anchor}"
    if request.method == "POST" and form.is_valid():
        try:
            perform(form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, done)
            return redirect(back)
    return render(request, "protection/step_form.html", {
        "case": case, "form": form, "title": title, "intro": intro, "submit": submit,
        "details": details or [], "back": back})


# --- the reflection period -------------------------------------------------------------------

@case_view
def reflection_period_new(request, case_number):
    case = _editable_case(request.user, case_number)
    form = forms.ReflectionPeriodForm(request.POST or None)
    minimum = services.minimum_reflection_days()
    return _step_page(
        request, case, form,
        lambda data: services.grant_reflection_period(
            request.user, case, data["starts_on"], data["ends_on"], data["decided_on"],
            **form.decider(), channel=CHANNEL),
        title=_("Grant a recovery and reflection period"),
        intro=_("At least %(days)d days in which the person may not be removed and recovers "
                "before deciding whether to cooperate with the authorities.") % {"days": minimum},
        submit=_("Record the period"), done=_("Recovery and reflection period recorded."))


@case_view
def reflection_period_extend(request, case_number, pk):
    case = _editable_case(request.user, case_number)
    period = case.reflection_periods.filter(pk=pk).first()
    if period is None:
        raise Http404(_("No such reflection period on this case."))
    form = forms.ReflectionExtensionForm(request.POST or None)
    return _step_page(
        request, case, form,
        lambda data: services.extend_reflection_period(
            request.user, period, data["ends_on"], data["reason"], data["decided_on"],
            **form.decider(), channel=CHANNEL),
        title=_("Extend the reflection period"),
        intro=_("The earlier end stays in the history of the case."),
        submit=_("Record the extension"), done=_("Extension recorded."),
        details=[(_("First day"), period.starts_on), (_("Current last day"), period.ends_on)])


# --- residence permits -----------------------------------------------------------------------

def _permit(case, pk):
    permit = case.residence_permits.filter(pk=pk).first()
    if permit is None:
        raise Http404(_("No such residence permit on this case."))
    return permit


def _permit_details(permit) -> list:
    return [(_("Type of permit"), codelists.label("permit_types", permit.permit_type)),
            (_("Applied on"), permit.applied_on), (_("Status"), permit.get_status_display()),
            (_("Expires on"), permit.expires_on or "—")]


@case_view
def permit_new(request, case_number):
    case = _editable_case(request.user, case_number)
    form = forms.PermitApplicationForm(request.POST or None)
    return _step_page(
        request, case, form,
        lambda data: services.record_residence_permit(
            request.user, case, data["permit_type"], data["applied_on"], channel=CHANNEL),
        title=_("Record a residence permit application"),
        intro=_("Record the decision on the application when it comes."),
        submit=_("Record the application"), done=_("Residence permit application recorded."))


@case_view
def permit_decide(request, case_number, pk):
    case = _editable_case(request.user, case_number)
    permit = _permit(case, pk)
    form = forms.PermitDecisionForm(request.POST or None)
    return _step_page(
        request, case, form,
        lambda data: services.decide_residence_permit(
            request.user, permit, data["decision"], data["decided_on"], data["expires_on"],
            **form.decider(), channel=CHANNEL),
        title=_("Record the decision on a residence permit"), intro="",
        submit=_("Record the decision"), done=_("Decision on the residence permit recorded."),
        details=_permit_details(permit))


@case_view
def permit_renew(request, case_number, pk):
    case = _editable_case(request.user, case_number)
    permit = _permit(case, pk)
    form = forms.PermitRenewalForm(request.POST or None)
    return _step_page(
        request, case, form,
        lambda data: services.renew_residence_permit(
            request.user, permit, data["decided_on"], data["expires_on"], **form.decider(),
            channel=CHANNEL),
        title=_("Record the renewal of a residence permit"),
        intro=_("The renewal is recorded as a new permit; this one is marked renewed."),
        submit=_("Record the renewal"), done=_("Renewal of the residence permit recorded."),
        details=_permit_details(permit))


# --- criminal proceedings and compensation ---------------------------------------------------

@case_view
def proceeding_new(request, case_number):
    case = _editable_case(request.user, case_number)
    form = forms.ProceedingForm(request.POST or None)
    return _step_page(
        request, case, form,
        lambda data: services.record_proceeding(
            request.user, case, data["stage"], data["role"], data["decided_on"],
            **form.decider(), case_reference=data["case_reference"],
            protection_measures=data["protection_measures"],
            non_punishment_considered=data["non_punishment_considered"],
            non_punishment_note=data["non_punishment_note"], channel=CHANNEL),
        title=_("Record criminal proceedings"),
        intro=_("The file number, protection measures and notes are encrypted."),
        submit=_("Record the proceedings"), done=_("Criminal proceedings recorded."),
        anchor="stage-proceedings")


@case_view
def proceeding_stage(request, case_number, pk):
    """The proceedings as recorded (reading the encrypted fields is audited) and the form
    for their next stage; proceedings kept by a criminal case take no stage from here."""
    case = _editable_case(request.user, case_number)
    if case.proceedings.filter(pk=pk, kept_by_criminal_case=True).exists():
        messages.info(request, KEPT_STAGE_MESSAGE)
        return redirect(f"{reverse('case-detail', args=[case.case_number])}#stage-proceedings")
    # The page shows the file number and measures, with the form or with its errors.
    proceeding = services.read_proceeding(request.user, case, pk, channel=CHANNEL)
    if proceeding is None:
        raise Http404(_("No such proceedings on this case."))
    form = forms.ProceedingStageForm(request.POST or None, initial={
        "decided_on": timezone.localdate(),
        "non_punishment_considered": proceeding.non_punishment_considered,
        "non_punishment_note": proceeding.non_punishment_note})
    return _step_page(
        request, case, form,
        lambda data: services.update_proceeding_stage(
            request.user, proceeding, data["stage"], data["decided_on"], **form.decider(),
            non_punishment_considered=data["non_punishment_considered"],
            non_punishment_note=data["non_punishment_note"], channel=CHANNEL),
        title=_("Record a new stage of the proceedings"), intro="",
        submit=_("Record the stage"), done=_("Stage of the proceedings recorded."),
        anchor="stage-proceedings",
        details=[(_("Current stage"), codelists.label("proceeding_stages", proceeding.stage)),
                 (_("The person's role"), codelists.label("proceeding_roles", proceeding.role)),
                 (_("File number"), proceeding.case_reference or "—"),
                 (_("Protection measures"), proceeding.protection_measures or "—")])


@case_view
def claim_new(request, case_number):
    case = _editable_case(request.user, case_number)
    form = forms.CompensationClaimForm(request.POST or None)
    return _step_page(
        request, case, form,
        lambda data: services.record_compensation_claim(
            request.user, case, data["source"], data["filed_on"], data["currency"],
            data["amount_claimed"], channel=CHANNEL),
        title=_("Record a compensation claim"), intro="",
        submit=_("Record the claim"), done=_("Compensation claim recorded."),
        anchor="stage-proceedings")


@case_view
def claim_outcome(request, case_number, pk):
    case = _editable_case(request.user, case_number)
    claim = case.compensation_claims.filter(pk=pk).first()
    if claim is None:
        raise Http404(_("No such compensation claim on this case."))
    form = forms.CompensationOutcomeForm(request.POST or None)
    return _step_page(
        request, case, form,
        lambda data: services.record_compensation_outcome(
            request.user, claim, data["outcome"], data["decided_on"], data["amount_awarded"],
            **form.decider(), channel=CHANNEL),
        title=_("Record the outcome of a compensation claim"),
        intro=_("For a payment, the date is the day it was paid."),
        submit=_("Record the outcome"), done=_("Outcome of the claim recorded."),
        anchor="stage-proceedings",
        details=[(_("Claimed from"), codelists.label("compensation_sources", claim.source)),
                 (_("Filed on"), claim.filed_on),
                 (_("Outcome"), claim.get_outcome_display())])


# --- return ----------------------------------------------------------------------------------

@case_view
def return_new(request, case_number):
    case = _editable_case(request.user, case_number)
    form = forms.ReturnPlanForm(request.POST or None)
    intro = (_("This person is treated as a child: the return needs a documented risk and "
               "security assessment that does not find a high risk.") if case.is_child
             else _("Record the risk assessment, or the reason why the return goes ahead "
                    "without one."))
    return _step_page(
        request, case, form,
        lambda data: services.plan_return(
            request.user, case, data["destination_country"], data["voluntary"],
            data["decided_on"], **form.decider(), planned_return_on=data["planned_return_on"],
            risk_assessed_on=data["risk_assessed_on"],
            risk_assessed_by=data["risk_assessed_by"], risk_level=data["risk_level"],
            risk_summary=data["risk_summary"],
            no_assessment_reason=data["no_assessment_reason"], channel=CHANNEL),
        title=_("Plan a return"), intro=intro, submit=_("Record the plan"),
        done=_("Return plan recorded."))


@case_view
def return_record(request, case_number, pk):
    """The plan with its risk assessment (reading it is audited) and the form to record
    the return."""
    case = _editable_case(request.user, case_number)
    plan = services.read_return_plan(request.user, case, pk,
                                     fields=("risk_summary", "no_assessment_reason"),
                                     channel=CHANNEL)
    if plan is None:
        raise Http404(_("No such return plan on this case."))
    form = forms.ReturnForm(request.POST or None)
    return _step_page(
        request, case, form,
        lambda data: services.record_return(
            request.user, plan, data["returned_on"], data["reintegration_follow_up"],
            data["follow_up_on"], channel=CHANNEL),
        title=_("Record the return"), intro="", submit=_("Record the return"),
        done=_("Return recorded."),
        details=[(_("Country of return"), codelists.label("countries", plan.destination_country)),
                 (_("Risk assessed on"), plan.risk_assessed_on or "—"),
                 (_("Level of risk"), plan.get_risk_level_display() or "—"),
                 (_("What the risk assessment found"), plan.risk_summary or "—"),
                 (_("Reason for returning without a risk assessment"),
                  plan.no_assessment_reason or "—")])


# --- the support plan ------------------------------------------------------------------------

def _plan(case) -> SupportPlan:
    plan = SupportPlan.objects.filter(case=case).select_related("responsible_agency").first()
    if plan is None:
        raise Http404(_("This case has no support plan yet."))
    return plan


@case_view
def support_plan(request, case_number):
    """The plan with its objectives, actions and reviews: reading them is audited."""
    case = access.get_visible_case(request.user, case_number)
    plan = services.read_support_plan(request.user, case, channel=CHANNEL)
    if plan is None:
        if access.can_edit_case(request.user, case) and not case.is_closed:
            return redirect("support-plan-edit", case_number=case.case_number)
        raise Http404(_("This case has no support plan yet."))
    actions = list(plan.actions.select_related("responsible_agency"))
    may_change = (access.can_edit_case(request.user, case) and not case.is_closed
                  and plan.is_active)
    for action in actions:
        if may_change and not action.is_done:
            action.complete_form = forms.CompleteActionForm(
                prefix=f"action-{action.pk}", initial={"done_on": timezone.localdate()})
    return render(request, "protection/support_plan.html", {
        "case": case, "plan": plan, "actions": actions, "today": timezone.localdate(),
        "reviews": list(plan.reviews.select_related("reviewed_by")),
        "may_change": may_change,
        "may_edit": access.can_edit_case(request.user, case) and not case.is_closed})


@case_view
def support_plan_edit(request, case_number):
    """Agree the plan, or change it (objectives, responsible agency, next review, status)."""
    case = _editable_case(request.user, case_number)
    plan = services.read_support_plan(request.user, case, fields=("objectives",),
                                      channel=CHANNEL)
    if plan is None:
        initial = {"agreed_on": timezone.localdate(), "responsible_agency": request.user.agency.code
                   if request.user.agency else ""}
    else:
        initial = {"objectives": plan.objectives, "agreed_on": plan.agreed_on,
                   "responsible_agency": plan.responsible_agency.code,
                   "next_review_on": plan.next_review_on, "status": plan.status}
    form = forms.SupportPlanForm(request.POST or None, initial=initial)
    if plan is not None:
        form.fields["agreed_on"].disabled = True

    def perform(data):
        if plan is None:
            services.create_support_plan(
                request.user, case, data["objectives"], data["agreed_on"],
                data["responsible_agency"], data["next_review_on"], channel=CHANNEL)
        else:
            services.update_support_plan(
                request.user, plan, objectives=data["objectives"],
                responsible_agency_code=data["responsible_agency"],
                next_review_on=data["next_review_on"], status=data["status"], channel=CHANNEL)

    if plan is None:
        del form.fields["status"]
    return _step_page(
        request, case, form, perform,
        title=_("Agree the support plan") if plan is None else _("Change the support plan"),
        intro=_("Objectives, actions and reviews are agreed with the person and encrypted."),
        submit=_("Save the plan"), done=_("Support plan saved."),
        back=reverse("support-plan", args=[case.case_number]))


@case_view
def support_action_new(request, case_number):
    case = _editable_case(request.user, case_number)
    plan = _plan(case)
    form = forms.SupportActionForm(request.POST or None, initial={
        "responsible_agency": plan.responsible_agency.code})
    return _step_page(
        request, case, form,
        lambda data: services.add_support_action(
            request.user, plan, data["description"], data["responsible_agency"],
            data["due_on"], channel=CHANNEL),
        title=_("Add an action to the support plan"), intro="",
        submit=_("Add the action"), done=_("Action added to the support plan."),
        back=reverse("support-plan", args=[case.case_number]))


@require_POST
@case_view
def support_action_complete(request, case_number, pk):
    case = _editable_case(request.user, case_number)
    plan = _plan(case)
    action = plan.actions.filter(pk=pk).first()
    if action is None:
        raise Http404(_("No such action in this support plan."))
    form = forms.CompleteActionForm(request.POST, prefix=f"action-{action.pk}")
    try:
        if not form.is_valid():
            raise ValidationError(form.errors["done_on"])
        services.complete_support_action(request.user, action, form.cleaned_data["done_on"],
                                         channel=CHANNEL)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Action marked done."))
    return redirect("support-plan", case_number=case.case_number)


@case_view
def support_review_new(request, case_number):
    case = _editable_case(request.user, case_number)
    plan = _plan(case)
    form = forms.SupportReviewForm(request.POST or None)
    return _step_page(
        request, case, form,
        lambda data: services.record_support_review(
            request.user, plan, data["reviewed_on"], data["note"], data["next_review_on"],
            channel=CHANNEL),
        title=_("Record a review of the support plan"), intro="",
        submit=_("Record the review"), done=_("Review of the support plan recorded."),
        back=reverse("support-plan", args=[case.case_number]))
