"""Criminal-justice pages: the list of criminal cases, opening one, the criminal case page
(stages, persons, victims, cooperation requests, shares) and a page for each person. Thin:
every rule, check and audit entry is in `justice.services` and `justice.victims`."""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from opennrm.core import codelists
from opennrm.core.forms import add_service_errors
from opennrm.justice import access, forms, services, victims
from opennrm.justice.models import NonPunishmentAlert

CHANNEL = "web"


def criminal_case_view(view):
    """Sign-in required; a criminal case the user may not see is a 404, a forbidden action
    a 403."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except access.CriminalCaseNotFound as missing:
            raise Http404(_("No such criminal case.")) from missing
        except access.CriminalCaseAccessDenied as denied:
            raise PermissionDenied(str(denied)) from denied

    return wrapper


def _case_url(criminal_case, anchor: str = "") -> str:
    url = reverse("criminal-case", args=[criminal_case.pk])
    return f"{url}#{anchor}" if anchor else url


def _submit(request, form, perform: Callable[[dict], object], done: str):
    """On a valid form, call `perform(cleaned_data)` and return what it recorded; None when
    the form or the service refused (the service's messages are then on the form)."""
    if not form.is_valid():
        return None
    try:
        recorded = perform(form.cleaned_data)
    except ValidationError as error:
        add_service_errors(form, error)
        return None
    messages.success(request, done)
    return recorded


def _form_page(request, criminal_case, form, *, title: str, submit: str, intro: str = "",
               details: list | None = None, back: str = ""):
    return render(request, "justice/form.html", {
        "criminal_case": criminal_case, "form": form, "title": title, "intro": intro,
        "submit": submit, "details": details or [],
        "back": back or (_case_url(criminal_case) if criminal_case else
                         reverse("criminal-case-list"))})


# --- the list and opening a case -------------------------------------------------------------

@require_GET
@login_required
def criminal_case_list(request):
    """The criminal cases the user's agency holds or was shared (empty for anyone else)."""
    return render(request, "justice/criminal_case_list.html", {
        "criminal_cases": services.criminal_cases_for(request.user),
        "may_open": access.works_on_criminal_cases(request.user)})


@require_http_methods(["GET", "POST"])
@criminal_case_view
def criminal_case_new(request):
    access.ensure_can_open(request.user)
    form = forms.CriminalCaseForm(request.POST or None)
    opened = request.method == "POST" and _submit(
        request, form, lambda data: services.open_criminal_case(
            request.user, data["national_reference"], data["legal_qualification"],
            data["opened_on"], data["exploitation_form"], data["offence_from"],
            data["offence_to"], channel=CHANNEL), _("Criminal case opened."))
    if opened:
        return redirect(_case_url(opened))
    return _form_page(request, None, form, title=_("Open a criminal case"),
                      intro=_("Your agency will be in charge of the case."),
                      submit=_("Open the case"))


# --- the criminal case page ------------------------------------------------------------------

def _case_page(request, criminal_case_id, *, stage_form=None, victim_form=None,
               share_form=None):
    """The criminal case page (reading it is audited), with any form that failed."""
    criminal_case = services.read_criminal_case(request.user, criminal_case_id,
                                                channel=CHANNEL)
    in_charge = access.is_in_charge(request.user, criminal_case)
    persons = list(criminal_case.persons.all())
    alerted = set(NonPunishmentAlert.objects.filter(suspect__in=persons)
                  .values_list("suspect_id", flat=True))
    for person in persons:
        person.non_punishment_alert = person.pk in alerted
    return render(request, "justice/criminal_case.html", {
        "criminal_case": criminal_case,
        "stages": list(criminal_case.stages.all()),
        "persons": persons,
        "victim_links": list(criminal_case.victim_links.select_related(
            "case__owner_agency", "proceeding")),
        "cooperation_requests": list(criminal_case.cooperation_requests.all()),
        "shares": (list(criminal_case.shares.select_related("agency")) if in_charge else []),
        "in_charge": in_charge,
        "stage_form": stage_form or forms.StageForm(),
        "victim_form": victim_form or forms.VictimLinkForm(),
        "share_form": share_form or (forms.ShareForm(criminal_case=criminal_case)
                                     if in_charge else None),
    })


@require_GET
@criminal_case_view
def criminal_case_detail(request, criminal_case_id):
    return _case_page(request, criminal_case_id)


@require_POST
@criminal_case_view
def stage_new(request, criminal_case_id):
    criminal_case = access.get_visible_criminal_case(request.user, criminal_case_id)
    form = forms.StageForm(request.POST)
    if _submit(request, form, lambda data: services.record_stage(
            request.user, criminal_case, data["stage"], data["reached_on"],
            data["closure_reason"], channel=CHANNEL), _("Stage recorded.")):
        return redirect(_case_url(criminal_case, "stages"))
    return _case_page(request, criminal_case_id, stage_form=form)


@require_POST
@criminal_case_view
def victim_link_new(request, criminal_case_id):
    criminal_case = access.get_visible_criminal_case(request.user, criminal_case_id)
    form = forms.VictimLinkForm(request.POST)
    if _submit(request, form, lambda data: victims.link_victim(
            request.user, criminal_case, data["agency"], data["case_number"], data["role"],
            data["linked_on"], channel=CHANNEL), _("Victim linked to the criminal case.")):
        return redirect(_case_url(criminal_case, "victims"))
    return _case_page(request, criminal_case_id, victim_form=form)


@require_POST
@criminal_case_view
def victim_unlink(request, criminal_case_id, pk):
    criminal_case = access.get_visible_criminal_case(request.user, criminal_case_id)
    link = criminal_case.victim_links.filter(pk=pk).first()
    if link is None:
        raise Http404(_("No such victim in this criminal case."))
    victims.unlink_victim(request.user, link, channel=CHANNEL)
    messages.success(request, _("Victim removed from the criminal case."))
    return redirect(_case_url(criminal_case, "victims"))


@require_POST
@criminal_case_view
def share_new(request, criminal_case_id):
    criminal_case = access.get_visible_criminal_case(request.user, criminal_case_id)
    access.ensure_in_charge(request.user, criminal_case)
    form = forms.ShareForm(request.POST, criminal_case=criminal_case)
    if _submit(request, form, lambda data: services.share_criminal_case(
            request.user, criminal_case, data["agency"], channel=CHANNEL),
            _("Criminal case shared.")):
        return redirect(_case_url(criminal_case, "shares"))
    return _case_page(request, criminal_case_id, share_form=form)


@require_POST
@criminal_case_view
def share_withdraw(request, criminal_case_id, pk):
    criminal_case = access.get_visible_criminal_case(request.user, criminal_case_id)
    access.ensure_in_charge(request.user, criminal_case)
    share = criminal_case.shares.filter(pk=pk).select_related("agency").first()
    if share is None:
        raise Http404(_("No such share of this criminal case."))
    services.withdraw_share(request.user, share, channel=CHANNEL)
    messages.success(request, _("Share withdrawn."))
    return redirect(_case_url(criminal_case, "shares"))


# --- persons ---------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
@criminal_case_view
def suspect_new(request, criminal_case_id):
    criminal_case = access.get_visible_criminal_case(request.user, criminal_case_id)
    form = forms.SuspectForm(request.POST or None)
    if request.method == "POST" and _submit(request, form, lambda data: services.record_suspect(
            request.user, criminal_case, data["gender"], data["role"], data["suspected_on"],
            data["given_name"], data["family_name"], data["birth_date"], data["age"],
            data["citizenships"], channel=CHANNEL), _("Person recorded.")):
        return redirect(_case_url(criminal_case, "persons"))
    return _form_page(request, criminal_case, form, title=_("Record a suspect"),
                      intro=_("Name and birth date are stored encrypted; sex, age and "
                              "citizenship count in the statistics."),
                      submit=_("Record the person"))


def _person_page(request, criminal_case_id, pk, *, identity_form=None,
                 indictment_form=None, outcome_form=None):
    """A person of the criminal case with their identity (reading it is audited) and the
    forms for the next steps, with any form that failed."""
    criminal_case = access.get_visible_criminal_case(request.user, criminal_case_id)
    person = services.read_suspect(request.user, criminal_case, pk, channel=CHANNEL)
    if person is None:
        raise Http404(_("No such person in this criminal case."))
    initial = {"given_name": person.given_name, "family_name": person.family_name,
               "birth_date": person.birth_date or None, "gender": person.gender,
               "citizenships": person.citizenships}
    return render(request, "justice/person.html", {
        "criminal_case": criminal_case, "person": person,
        "non_punishment_alert": person.non_punishment_alerts.exists(),
        "identity_form": identity_form or forms.IdentityForm(initial=initial),
        "indictment_form": indictment_form or forms.IndictmentForm(),
        "outcome_form": outcome_form or forms.OutcomeForm(),
    })


def _person(criminal_case, pk):
    person = criminal_case.persons.filter(pk=pk).first()
    if person is None:
        raise Http404(_("No such person in this criminal case."))
    return person


def _person_url(person) -> str:
    return reverse("suspect-detail", args=[person.criminal_case_id, person.pk])


@require_GET
@criminal_case_view
def suspect_detail(request, criminal_case_id, pk):
    return _person_page(request, criminal_case_id, pk)


@require_POST
@criminal_case_view
def suspect_identity(request, criminal_case_id, pk):
    criminal_case = access.get_visible_criminal_case(request.user, criminal_case_id)
    person = _person(criminal_case, pk)
    form = forms.IdentityForm(request.POST)
    if _submit(request, form, lambda data: services.update_suspect_identity(
            request.user, person, data["given_name"], data["family_name"], data["birth_date"],
            data["gender"], data["citizenships"], channel=CHANNEL), _("Identity saved.")):
        return redirect(_person_url(person))
    return _person_page(request, criminal_case_id, pk, identity_form=form)


@require_POST
@criminal_case_view
def suspect_indictment(request, criminal_case_id, pk):
    criminal_case = access.get_visible_criminal_case(request.user, criminal_case_id)
    person = _person(criminal_case, pk)
    form = forms.IndictmentForm(request.POST)
    if _submit(request, form, lambda data: services.record_indictment(
            request.user, person, data["prosecuted_on"], channel=CHANNEL),
            _("Indictment recorded.")):
        return redirect(_person_url(person))
    return _person_page(request, criminal_case_id, pk, indictment_form=form)


@require_POST
@criminal_case_view
def suspect_outcome(request, criminal_case_id, pk):
    criminal_case = access.get_visible_criminal_case(request.user, criminal_case_id)
    person = _person(criminal_case, pk)
    form = forms.OutcomeForm(request.POST)
    if _submit(request, form, lambda data: services.record_outcome(
            request.user, person, data["outcome"], data["outcome_on"], data["sentence_type"],
            data["sentence_months"], data["assets_confiscated_eur"], channel=CHANNEL),
            _("Outcome recorded.")):
        return redirect(_person_url(person))
    return _person_page(request, criminal_case_id, pk, outcome_form=form)


# --- international cooperation ---------------------------------------------------------------

@require_http_methods(["GET", "POST"])
@criminal_case_view
def cooperation_new(request, criminal_case_id):
    criminal_case = access.get_visible_criminal_case(request.user, criminal_case_id)
    form = forms.CooperationRequestForm(request.POST or None)
    if request.method == "POST" and _submit(
            request, form, lambda data: services.record_cooperation_request(
                request.user, criminal_case, data["kind"], data["direction"],
                data["partner_country"], data["requested_on"], data["state"],
                data["answered_on"], data["note"], channel=CHANNEL),
            _("Cooperation request recorded.")):
        return redirect(_case_url(criminal_case, "cooperation"))
    return _form_page(request, criminal_case, form,
                      title=_("Record an international cooperation request"),
                      intro=_("Tracked here only: the request itself goes through the police "
                              "and judicial channels."),
                      submit=_("Record the request"))


@require_http_methods(["GET", "POST"])
@criminal_case_view
def cooperation_update(request, criminal_case_id, pk):
    """The request as recorded (reading its note is audited) and the form for its
    state."""
    criminal_case = access.get_visible_criminal_case(request.user, criminal_case_id)
    cooperation = services.read_cooperation_request(request.user, criminal_case, pk,
                                                    channel=CHANNEL)
    if cooperation is None:
        raise Http404(_("No such cooperation request in this criminal case."))
    form = forms.CooperationStateForm(request.POST or None, initial={
        "state": cooperation.state, "answered_on": cooperation.answered_on,
        "note": cooperation.note})
    if request.method == "POST" and _submit(
            request, form, lambda data: services.update_cooperation_request(
                request.user, cooperation, data["state"], data["answered_on"], data["note"],
                channel=CHANNEL),
            _("Cooperation request updated.")):
        return redirect(_case_url(criminal_case, "cooperation"))
    direction = {"sent": _("Sent"), "received": _("Received")}
    return _form_page(
        request, criminal_case, form, title=_("Update a cooperation request"),
        submit=_("Save"),
        details=[(_("Kind of request"),
                  codelists.label("cooperation_request_types", cooperation.kind)),
                 (_("Direction"), direction.get(cooperation.direction, cooperation.direction)),
                 (_("Partner country"),
                  codelists.label("countries", cooperation.partner_country)),
                 (_("Sent or received on"), cooperation.requested_on)])
