"""Screening and identification pages. Every write goes through `screening.services`."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opennrm.cases import access
from opennrm.cases.views import case_view
from opennrm.core.forms import add_service_errors
from opennrm.screening import access as screening_access
from opennrm.screening import engine, indicator_sets, services
from opennrm.screening.forms import (
    IdentificationDecisionForm,
    QueueFilterForm,
    ScreeningForm,
    list_key,
    strength_label,
)
from opennrm.screening.models import Screening

CHANNEL = "web"
QUEUE_PER_PAGE = 50


def _language() -> str:
    return (translation.get_language() or "en").split("-")[0]


def _list_label(set_id: str, version: str, language: str) -> str:
    try:
        indicator_set = indicator_sets.get(set_id, version)
    except indicator_sets.UnknownIndicatorSet:
        return set_id
    return indicator_set.label(indicator_set.data, language)


def identification_context(user, case, present) -> dict:
    """What the Identification section of the case page shows (no encrypted field read);
    `present` names the case's lists that hold rows (`relations_with_rows`)."""
    language = _language()
    screenings = list(case.screenings.defer("notes")) if "screenings" in present else []
    for screening in screenings:
        screening.list_label = _list_label(screening.indicator_set,
                                           screening.indicator_set_version, language)
    decisions = (list(case.identification_decisions.defer("grounds", "appeal")
                      .select_related("deciding_agency"))
                 if "identification_decisions" in present else [])
    return {
        "screenings": screenings,
        "identification_decisions": decisions,
        "may_decide_identification": access.can_decide_identification(user, case),
    }


# --- screening -----------------------------------------------------------------------------

def _editable_case(user, case_number: str):
    case = access.get_visible_case(user, case_number)
    access.ensure_can_edit(user, case)
    return case


def _opens_case(user, case) -> bool:
    """`user` may open the case page (the authority a case was referred to for formal
    identification may decide it and read its screenings, not open it)."""
    return access.cases_visible_to(user).filter(pk=case.pk).exists()


def _screened_as_child(case) -> bool:
    """The person may be a child today: a list for children fits them."""
    return services.age_group(case, timezone.localdate()) == engine.CHILD


def _default_list(lists, child: bool):
    if child:
        for indicator_set in lists:
            if indicator_set.data.get("population") == "child":
                return indicator_set
    return lists[0]


def _bound_form(data, lists, language: str) -> ScreeningForm:
    """The submitted form, validated against the list whose indicators were on the page."""
    by_key = {list_key(indicator_set): indicator_set for indicator_set in lists}
    shown = by_key.get(data.get("shown_set")) or by_key.get(data.get("indicator_set"))
    return ScreeningForm(data, lists=lists, shown=shown or lists[0], language=language)


def _switched_form(form: ScreeningForm) -> ScreeningForm:
    """The form again for the list just chosen: ticks and notes kept where the codes match."""
    chosen = form.chosen()
    data = form.data.copy()
    data["shown_set"] = list_key(chosen)
    data.setlist("observed", [code for code in data.getlist("observed")
                              if code in chosen.indicators])
    return ScreeningForm(data, lists=list(form.lists.values()), shown=chosen,
                         language=form.language)


def _preview(case, form: ScreeningForm) -> services.Preview:
    """The outcome on the date given (today while the date is missing or wrong)."""
    if form.is_bound:
        form.is_valid()
        on = form.cleaned_data.get("screened_on")
    else:
        on = form.initial.get("screened_on")
    today = timezone.localdate()
    on = on if on and on <= today else today
    return services.preview(case, form.shown, form.ticked(), on, form.language)


def _outcome_context(case, form: ScreeningForm) -> dict:
    preview = _preview(case, form)
    return {"preview": preview, "outcome_line": preview.explanation[0],
            "reasons": preview.explanation[1:]}


def _render_screening_form(request, case, form: ScreeningForm | None, child: bool):
    context = {"case": case, "form": form, "child": child}
    if form is not None and not case.is_closed:
        context.update(_outcome_context(case, form), dimensions=form.dimensions())
    return render(request, "screening/screening_form.html", context)


@case_view
def screening_new(request, case_number):
    """Choose a list, tick what was observed, see the outcome, record the screening."""
    case = _editable_case(request.user, case_number)
    lists = indicator_sets.current()
    child = _screened_as_child(case)
    language = _language()
    if not lists:
        return _render_screening_form(request, case, None, child)
    if request.method != "POST" or case.is_closed:
        form = ScreeningForm.blank(lists=lists, chosen=_default_list(lists, child),
                                   language=language)
        return _render_screening_form(request, case, form, child)

    form = _bound_form(request.POST, lists, language)
    valid = form.is_valid()
    if form.chosen() is not form.shown:
        # The list was changed (without JavaScript): show its indicators, record nothing.
        switched = _switched_form(form)
        if "preview" not in request.POST:
            switched.add_error("indicator_set", _(
                "You chose another list: tick its indicators, then record the screening."))
        return _render_screening_form(request, case, switched, child)
    if "preview" in request.POST or not valid:
        return _render_screening_form(request, case, form, child)
    try:
        screening = services.record_screening(
            request.user, case, form.shown.data["id"], form.shown.data["version"],
            form.observations(), form.cleaned_data["screened_on"], channel=CHANNEL,
            age_group_override=form.cleaned_data.get("age_group_override", ""))
    except ValidationError as error:
        add_service_errors(form, error)
        return _render_screening_form(request, case, form, child)
    messages.success(request, _("Screening recorded: %(outcome)s.") % {
        "outcome": screening.get_outcome_display()})
    return redirect("case-detail", case_number=case.case_number)


@require_POST
@case_view
def screening_preview(request, case_number):
    """The outcome of what is ticked, for the live panel; nothing is stored.

    When the list was just changed, its indicators come along (an out-of-band swap).
    """
    case = _editable_case(request.user, case_number)
    lists = indicator_sets.current()
    if not lists or case.is_closed:
        if request.htmx:
            return HttpResponse(status=204)
        return redirect("screening-new", case_number=case.case_number)
    form = _bound_form(request.POST, lists, _language())
    switched = form.chosen() is not form.shown
    if switched:
        form = _switched_form(form)
    if not request.htmx:
        return _render_screening_form(request, case, form, _screened_as_child(case))
    context = {"case": case, "form": form, "list_changed": switched, **_outcome_context(
        case, form)}
    if switched:
        context["dimensions"] = form.dimensions()
    return render(request, "screening/preview.html", context)


def _observed_rows(screening: Screening, indicator_set, language: str) -> list[dict]:
    notes = screening.notes or {}
    observed = set(screening.observed)
    if indicator_set is None:
        return [{"dimension": "", "label": code, "strength": "", "note": notes.get(code, "")}
                for code in screening.observed]
    rows = []
    for dimension in indicator_set.data["dimensions"]:
        for indicator in dimension["indicators"]:
            if indicator["code"] in observed:
                rows.append({
                    "dimension": indicator_set.label(dimension, language),
                    "label": indicator_set.label(indicator, language),
                    "strength": strength_label(indicator["strength"]),
                    "note": notes.get(indicator["code"], ""),
                })
    return rows


@case_view
def screening_detail(request, case_number, pk):
    """One screening as recorded, printable. Its notes may describe the person: audited.
    The decision-makers of the authority the case was referred to for formal
    identification read it too (from the decision form)."""
    case = screening_access.get_case_for_screening(request.user, case_number)
    screening = services.read_screening(request.user, case, pk, channel=CHANNEL)
    if screening is None:
        raise Http404(_("No such screening on this case."))
    language = _language()
    try:
        indicator_set = indicator_sets.get(screening.indicator_set,
                                           screening.indicator_set_version)
    except indicator_sets.UnknownIndicatorSet:
        indicator_set = None
    reasons = []
    if indicator_set is not None:
        # The same list version and rule as when it was recorded: the same result.
        reasons = services.explain_recorded(screening, indicator_set, language)[1:]
    return render(request, "screening/screening_detail.html", {
        "case": case,
        "opens_case": _opens_case(request.user, case),
        "screening": screening,
        "list_label": (indicator_set.label(indicator_set.data, language) if indicator_set
                       else screening.indicator_set),
        "list_missing": indicator_set is None,
        "reasons": reasons,
        "observed_rows": _observed_rows(screening, indicator_set, language),
    })


# --- the formal identification decision ----------------------------------------------------

@case_view
def identification_new(request, case_number):
    case = access.get_case_for_identification(request.user, case_number)
    if not access.can_decide_identification(request.user, case):
        raise access.CaseAccessDenied(_(
            "Only the authority designated in this country may decide formal "
            "identification."))
    form = IdentificationDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.decide_identification(
                request.user, case, data["decision"], data["decided_on"], data["grounds"],
                data["appeal"], channel=CHANNEL)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Identification decision recorded."))
            if _opens_case(request.user, case):
                return redirect("case-detail", case_number=case.case_number)
            return redirect("identification-queue")
    latest = case.screenings.defer("notes", "age_group_override").first()
    if latest is not None:
        latest.list_label = _list_label(latest.indicator_set, latest.indicator_set_version,
                                        _language())
    return render(request, "screening/decision_form.html", {
        "case": case, "form": form, "latest_screening": latest,
        "opens_case": _opens_case(request.user, case)})


@login_required
def identification_queue(request):
    """Presumed victims with a probable or possible screening and no decision, the longest
    waiting first, filtered by agency, waiting time and age."""
    if not access.can_decide_identification(request.user):
        raise PermissionDenied(_("Only the authority designated in this country may decide "
                                 "formal identification."))
    today = timezone.localdate()
    form = QueueFilterForm(request.GET or None,
                           agencies=services.agencies_awaiting_decision(request.user))
    cases = (services.awaiting_decision(request.user, today=today, **form.filters())
             .select_related("owner_agency")
             .only("case_number", "age_band", "exploitation_forms", "is_child",
                   "owner_agency__name"))
    page = Paginator(cases, QUEUE_PER_PAGE).get_page(request.GET.get("page"))
    for case in page.object_list:
        case.days_waiting = max((today - case.first_screened_on).days, 0)
    return render(request, "screening/queue.html", {"page": page, "filter_form": form})
