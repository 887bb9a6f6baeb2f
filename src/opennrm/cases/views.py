"""Case pages. Every case is reached through `cases.access` or `cases.services`."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from opennrm.cases import (
    access,
    consent_effects,
    labels,
    listing,
    person_search,
    registration_checks,
    same_person,
    sections,
    services,
)
from opennrm.cases.assignment_forms import AssignForm
from opennrm.cases.forms import (
    CaseFilterForm,
    CaseForm,
    CloseCaseForm,
    ConsentForm,
    NameSearchForm,
    PersonSearchForm,
    RemoveSamePersonLinkForm,
    SamePersonForm,
    WithdrawConsentForm,
)
from opennrm.core.forms import add_service_errors

CASES_PER_PAGE = 50
# The case page's own lists; the registered sections add theirs (`sections`). One query
# tells which hold rows, and only those are read.
CASE_PAGE_RELATIONS = ("consents",)
CHANNEL = "web"


def case_view(view):
    """Sign-in required; a case the user may not see is a 404, a forbidden action a 403."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except access.CaseNotFound as missing:
            raise Http404(_("No such case.")) from missing
        except access.CaseAccessDenied as denied:
            raise PermissionDenied(str(denied)) from denied

    return wrapper


def _withdraw_form(consent, data=None) -> WithdrawConsentForm:
    return WithdrawConsentForm(data, prefix=f"consent-{consent.pk}")


def _removal_form(link, data=None) -> RemoveSamePersonLinkForm:
    return RemoveSamePersonLinkForm(data, prefix=f"same-person-{link.pk}")


def _same_person_context(user, case, form=None, failed_removal=None) -> dict:
    """The case page's "Same person as" list: only links to cases `user` can see."""
    may_change = same_person.may_change_links(user, case)
    links = same_person.same_person_links(user, case)
    for link in links:
        if failed_removal is not None and failed_removal.prefix == f"same-person-{link.pk}":
            link.removal_form = failed_removal
        elif may_change:
            link.removal_form = _removal_form(link)
    return {
        "same_person_links": links,
        "may_change_same_person": may_change,
        "same_person_form": form or SamePersonForm(prefix="same-person"),
        "failed_same_person_removal": failed_removal,
    }


def _render_detail(request, case_number: str, *, close_form=None,
                   identity_shown: bool = False, same_person_form=None,
                   failed_same_person_removal=None):
    if identity_shown:
        case = services.reveal_identity(request.user, case_number, channel=CHANNEL)
    else:
        case = services.read_case(request.user, case_number, channel=CHANNEL, identity=False)
    present = services.relations_with_rows(
        case, CASE_PAGE_RELATIONS + sections.section_relations())
    consents = (list(case.consents.select_related("recipient_agency"))
                if "consents" in present else [])
    return render(request, "cases/case_detail.html", {
        "case": case,
        "person": case.person,
        "may_see_identity": access.can_see_identity(request.user),
        "identity_shown": identity_shown,
        "can_edit": access.can_edit_case(request.user, case),
        "consents": consents,
        "close_form": close_form or CloseCaseForm(),
        **sections.sections_context(request.user, case, present),
        **_same_person_context(request.user, case, same_person_form,
                               failed_same_person_removal),
    })


@login_required
def case_list(request):
    """The agency's cases with filters, sort and pages; exact name search by POST."""
    user = request.user
    has_case_access = access.can_register_cases(user)
    filter_form = CaseFilterForm(request.GET)
    filter_form.is_valid()
    name_form = NameSearchForm(request.POST or None)
    page = name_results = None
    if has_case_access:
        if request.method == "POST":
            # Names and birth dates go in a POST body, never in a URL that logs and
            # browser history keep.
            if name_form.is_valid():
                name_results = services.find_cases_by_name(
                    user, name_form.cleaned_data["given_name"],
                    name_form.cleaned_data["family_name"], name_form.cleaned_data["birth_date"],
                    channel=CHANNEL)
        else:
            cases = listing.filtered_cases(user, filter_form.filters())
            # Only the columns the rows show: no encrypted field is loaded or decrypted.
            page = Paginator(cases.only(*listing.ROW_COLUMNS), CASES_PER_PAGE).get_page(
                request.GET.get("page"))
            labels.attach_name_labels(user, page.object_list, channel=CHANNEL)
    context = {
        "has_case_access": has_case_access,
        "filter_form": filter_form,
        "name_form": name_form,
        "page": page,
        "name_results": name_results,
        "sort": filter_form.filters().get("sort", listing.DEFAULT_SORT),
        "name_labels": labels.shows_labels(user),
        # Its own ids: the exact search below has a birth date field too.
        "person_search_form": PersonSearchForm(auto_id="find_%s"),
    }
    if has_case_access and access.can_assign_cases(user):
        context["bulk_assign_form"] = AssignForm(user.agency_id, prefix="assign")
        context["transfers_to_answer"] = access.transfers_to_answer(user).count()
    if request.htmx and request.htmx.target == "case-results":
        return render(request, "cases/case_results.html", context)
    return render(request, "cases/case_list.html", context)


@case_view
def person_search_page(request):
    """Find a person in any spelling. The name goes in a POST body, never in an address."""
    if not access.can_register_cases(request.user):
        raise access.CaseAccessDenied(_("Your role does not give access to individual cases."))
    form = PersonSearchForm(request.POST if request.method == "POST" else None)
    matches = query = None
    if request.method == "POST":
        form.is_valid()
        try:
            query = person_search.clean_query(form.cleaned_data)
        except ValidationError as error:
            # Every message at once: the service's next to the form's own type checks.
            add_service_errors(form, ValidationError({
                field: messages for field, messages in error.message_dict.items()
                if field not in form.errors}))
        if query is not None and not form.errors:
            matches = person_search.search_persons(request.user, query, channel=CHANNEL)
    return render(request, "cases/person_search.html", {
        "form": form, "matches": matches, "limit": person_search.DEFAULT_LIMIT})


def _register_message(case, person_of_case: str, same_person_as: str) -> str:
    if person_of_case:
        return _("Case %(number)s registered for the person of case %(known)s.") % {
            "number": case.case_number, "known": person_of_case}
    if same_person_as:
        return _("Case %(number)s registered and linked as the same person as case "
                 "%(other)s.") % {"number": case.case_number, "other": same_person_as}
    return _("Case %(number)s registered.") % {"number": case.case_number}


@case_view
def case_register(request):
    """Register a case; first shows the persons the user may see who may be this one."""
    if not access.can_register_cases(request.user):
        raise access.CaseAccessDenied(_("Your role cannot register cases."))
    form = CaseForm(request.POST or None)
    duplicates = matches = None
    if request.method == "POST" and form.is_valid():
        # The buttons of "this person may already be known" (one click each).
        choice = {name: request.POST.get(name, "")
                  for name in ("person_of_case", "same_person_as")}
        try:
            if not any(choice.values()) and not request.POST.get("new_person"):
                duplicates = _possible_duplicates(request.user, form.service_data())
            # A new person is scored against the register (registered checks) first.
            check = (None if choice["person_of_case"]
                     else _registration_check(request.user, form.service_data()))
            # "Register a new person" (a button, or the box of the model's panel) answers both.
            if check and not any(choice.values()) and not request.POST.get("new_person"):
                matches = check.matches
            if not duplicates and not matches:
                case = services.register_case(request.user, form.service_data(),
                                              channel=CHANNEL, **choice)
                if check:
                    check.record(case)
                messages.success(request, _register_message(case, **choice))
                return redirect("case-detail", case_number=case.case_number)
        except ValidationError as error:
            add_service_errors(form, error)
    return render(request, "cases/case_form.html", {
        "form": form, "case": None, "duplicates": duplicates, "matches": matches,
        "matches_unconfirmed": matches and request.POST.get("matches_shown")})


def _registration_check(user, data: dict) -> registration_checks.RegistrationCheck:
    """What the registered checks find for the new person; the form's errors come first."""
    services.clean_fields(data, partial=False, region=user.agency.country)
    return registration_checks.check_registration(user, data)


def _possible_duplicates(user, data: dict) -> list:
    """The persons who may be the one registered; the form's errors come first."""
    services.clean_fields(data, partial=False, region=user.agency.country)
    return person_search.possible_duplicates(user, data, channel=CHANNEL)


@case_view
def case_detail(request, case_number):
    return _render_detail(request, case_number)


@require_http_methods(["GET", "POST"])
@case_view
def case_identity(request, case_number):
    """POST shows the masked identity (audited); GET masks it again."""
    shown = request.method == "POST"
    if request.htmx:
        case = (services.reveal_identity(request.user, case_number, channel=CHANNEL) if shown
                else access.get_visible_case(request.user, case_number))
        return render(request, "cases/identity.html", {
            "case": case, "person": case.person, "identity_shown": shown,
            "may_see_identity": access.can_see_identity(request.user)})
    if not shown:
        return redirect("case-detail", case_number=case_number)
    return _render_detail(request, case_number, identity_shown=True)


@case_view
def case_edit(request, case_number):
    case = access.get_visible_case(request.user, case_number)
    access.ensure_can_edit(request.user, case)
    # The form shows the identity: the read is recorded as such.
    case = services.read_case(request.user, case_number, channel=CHANNEL)
    show_identity = access.can_see_identity(request.user)
    form = CaseForm.for_case(case, request.POST or None, show_identity=show_identity)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_case(request.user, case, form.changes(), channel=CHANNEL)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("case-detail", case_number=case.case_number)
    return render(request, "cases/case_form.html", {"form": form, "case": case})


@case_view
def consent_new(request, case_number):
    case = access.get_visible_case(request.user, case_number)
    access.ensure_can_edit(request.user, case)
    form = ConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.record_consent(
                request.user, case, data["purpose"], data["given_on"],
                recipient_agency_code=data["recipient_agency"],
                recipient_node=data["recipient_node"], channel=CHANNEL)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Consent recorded."))
            return redirect("case-detail", case_number=case.case_number)
    return render(request, "cases/consent_form.html", {"form": form, "case": case})


@require_http_methods(["GET", "POST"])
@case_view
def consent_withdraw(request, case_number, consent_id):
    """Withdraw a consent in two steps that need no script: the first (GET, or a POST
    without `confirm`) checks the date and says what the withdrawal will stop; the second
    (POST with `confirm`) records it."""
    case = access.get_visible_case(request.user, case_number)
    access.ensure_can_edit(request.user, case)
    consent = case.consents.select_related("recipient_agency").filter(pk=consent_id).first()
    if consent is None:
        raise Http404(_("No such consent on this case."))
    form = _withdraw_form(consent, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            if "confirm" in request.POST:
                services.withdraw_consent(request.user, consent,
                                          form.cleaned_data["withdrawn_on"], channel=CHANNEL)
            else:
                services.check_withdrawal(request.user, consent,
                                          form.cleaned_data["withdrawn_on"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if "confirm" in request.POST:
                messages.success(request, _("Withdrawal of consent recorded."))
                return redirect("case-detail", case_number=case.case_number)
    return render(request, "cases/consent_withdraw.html", {
        "case": case, "consent": consent, "form": form,
        "effects": consent_effects.withdrawal_effects(consent) if consent.is_active else [],
    })


@require_POST
@case_view
def case_close(request, case_number):
    case = access.get_visible_case(request.user, case_number)
    form = CloseCaseForm(request.POST)
    if form.is_valid():
        try:
            services.close_case(request.user, case, form.cleaned_data["closure_reason"],
                                channel=CHANNEL)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Case closed."))
            return redirect("case-detail", case_number=case.case_number)
    return _render_detail(request, case_number, close_form=form)


@require_POST
@case_view
def case_reopen(request, case_number):
    case = access.get_visible_case(request.user, case_number)
    try:
        services.reopen_case(request.user, case, channel=CHANNEL)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Case reopened."))
    return redirect("case-detail", case_number=case.case_number)


def _same_person_section(case) -> str:
    return reverse("case-detail", args=[case.case_number]) + "#same-person"


@require_POST
@case_view
def same_person_new(request, case_number):
    case = access.get_visible_case(request.user, case_number)
    form = SamePersonForm(request.POST, prefix="same-person")
    if form.is_valid():
        try:
            link = same_person.link_same_person(
                request.user, case, form.cleaned_data["same_as_case"],
                form.cleaned_data["reason"], channel=CHANNEL)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Recorded: case %(number)s is about the same person.")
                             % {"number": link.same_as_case.case_number})
            return redirect(_same_person_section(case))
    return _render_detail(request, case_number, same_person_form=form)


@require_POST
@case_view
def same_person_remove(request, case_number, link_id):
    case = access.get_visible_case(request.user, case_number)
    link = next((link for link in same_person.same_person_links(request.user, case)
                 if link.pk == link_id), None)
    if link is None:
        raise Http404(_("This case has no such link."))
    form = _removal_form(link, request.POST)
    if form.is_valid():
        try:
            same_person.remove_same_person_link(
                request.user, link, form.cleaned_data["removal_reason"], channel=CHANNEL)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Link to case %(number)s removed.") % {
                "number": link.other_case.case_number})
            return redirect(_same_person_section(case))
    return _render_detail(request, case_number, failed_same_person_removal=form)
