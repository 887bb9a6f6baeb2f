"""The coordinator's pages of linkage across nodes: agreements (enter the secret, see its
fingerprint), start a round, the rounds and their state (counts only); and the case page's
"also known in" section.

Thin views: `services` checks who may, validates, writes and audits; a view reads its form,
calls one service function and shows the outcome.
"""

from datetime import timedelta
from functools import wraps

from django import forms
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from opennrm.core.forms import add_service_errors
from opennrm.linkage.crossborder import access, services
from opennrm.linkage.crossborder.models import LinkageAgreement, LinkageRound, RoundState
from opennrm.transnational.models import Partner
from opennrm.transnational.services import ChannelError


def _requires(check):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not check(request.user):
                raise PermissionDenied(_("Only national coordinators and administrators use "
                                         "linkage across nodes."))
            return view(request, *args, **kwargs)
        return wrapper
    return decorator


def _may_open_index(user) -> bool:
    return access.can_manage_agreements(user) or access.can_run_rounds(user)


class PartnerChoice(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, partner):
        return f"{partner.name} ({partner.country})"


class SecretForm(forms.Form):
    secret = forms.CharField(label=gettext_lazy("Linkage secret agreed with the partners"),
                             widget=forms.PasswordInput(render_value=False), strip=True,
                             help_text=gettext_lazy(
                                 "Agree it out of band (in person or by telephone), never by "
                                 "e-mail. It is stored encrypted and never shown again."))
    confirm_secret = forms.CharField(label=gettext_lazy("The secret again"),
                                     widget=forms.PasswordInput(render_value=False))


class AgreementForm(SecretForm):
    name = forms.CharField(label=gettext_lazy("Name of the agreement (the same on every "
                                              "partner's node)"), max_length=100)
    partners = PartnerChoice(label=gettext_lazy("Partner nodes"), queryset=Partner.objects.none())

    field_order = ["name", "partners", "secret", "confirm_secret"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partners"].queryset = Partner.objects.order_by("country")


class RoundForm(forms.Form):
    agreement = forms.ModelChoiceField(label=gettext_lazy("Agreement"),
                                       queryset=LinkageAgreement.objects.none())
    partners = PartnerChoice(label=gettext_lazy("Partners (all of the agreement's if none is "
                                                "chosen)"), queryset=Partner.objects.none(),
                             required=False)
    deadline_days = forms.IntegerField(label=gettext_lazy("Days the partners have to join"),
                                       min_value=1, max_value=60,
                                       initial=services.DEFAULT_DEADLINE_DAYS)
    host_takes_part = forms.BooleanField(
        label=gettext_lazy("This node's persons take part (untick on a regional hub that only "
                           "hosts)"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agreement"].queryset = LinkageAgreement.objects.all()
        self.fields["partners"].queryset = Partner.objects.filter(
            linkage_agreements__isnull=False).distinct().order_by("country")


class DeclineForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))


@_requires(_may_open_index)
def index(request):
    user = request.user
    rounds = []
    if access.can_run_rounds(user):
        for linkage_round in LinkageRound.objects.select_related("host")[:50]:
            rounds.append({"round": linkage_round,
                           "waiting_for": (services.waiting_for(linkage_round)
                                           if linkage_round.state == RoundState.OPEN else []),
                           "presence": (services.presence_counts(linkage_round)
                                        if linkage_round.state == RoundState.LINKED else [])})
    return render(request, "crossborder/index.html", {
        "agreements": (LinkageAgreement.objects.prefetch_related("partners")
                       if access.can_manage_agreements(user) else None),
        "rounds": rounds, "may_run_rounds": access.can_run_rounds(user),
        "may_manage_agreements": access.can_manage_agreements(user)})


@_requires(access.can_manage_agreements)
def agreement_new(request):
    form = AgreementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            agreement = services.create_agreement(request.user, data["name"], data["partners"],
                                                  data["secret"], data["confirm_secret"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            flash.success(request, _("Agreement recorded. Compare its fingerprint with the "
                                     "partners' by telephone."))
            return redirect("crossborder:agreement", agreement_id=agreement.pk)
    return render(request, "crossborder/agreement_form.html", {"form": form})


@_requires(access.can_manage_agreements)
def agreement_detail(request, agreement_id: int):
    agreement = get_object_or_404(LinkageAgreement, pk=agreement_id)
    form = SecretForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.replace_secret(request.user, agreement, form.cleaned_data["secret"],
                                    form.cleaned_data["confirm_secret"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            flash.success(request, _("The secret was replaced. Compare the new fingerprint with "
                                     "the partners'."))
            return redirect("crossborder:agreement", agreement_id=agreement.pk)
    return render(request, "crossborder/agreement.html", {
        "agreement": agreement, "form": form,
        "fingerprint": services.format_fingerprint(agreement.fingerprint),
        "partners": agreement.partners.order_by("country")})


@_requires(access.can_run_rounds)
def round_new(request):
    form = RoundForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            linkage_round = services.open_round(
                request.user, data["agreement"], data["partners"],
                deadline=timezone.now() + timedelta(days=data["deadline_days"]),
                host_takes_part=data["host_takes_part"])
        except ValidationError as error:
            add_service_errors(form, error)
        except ChannelError as error:
            form.add_error(None, str(error))
        else:
            flash.success(request, _("The round is open: the partners are invited."))
            return redirect("crossborder:round", round_id=linkage_round.round_id)
    return render(request, "crossborder/round_form.html", {"form": form})


def _round_or_404(round_id) -> LinkageRound:
    return get_object_or_404(LinkageRound.objects.select_related("host", "agreement"),
                             round_id=round_id)


@_requires(access.can_run_rounds)
def round_detail(request, round_id):
    linkage_round = _round_or_404(round_id)
    return render(request, "crossborder/round.html", {
        "round": linkage_round, "parties": linkage_round.parties.all(),
        "waiting_for": services.waiting_for(linkage_round),
        "presence": services.presence_counts(linkage_round),
        "decline_form": DeclineForm(),
        "may_answer": linkage_round.state == RoundState.INVITED and not linkage_round.is_host})


@require_POST
@_requires(access.can_run_rounds)
def round_join(request, round_id):
    linkage_round = _round_or_404(round_id)
    try:
        services.join_round(request.user, linkage_round)
    except ValidationError as error:
        flash.error(request, " ".join(error.messages))
    else:
        flash.success(request, _("Joined: this node's persons are being encoded and sent to "
                                 "the host."))
    return redirect("crossborder:round", round_id=linkage_round.round_id)


@require_POST
@_requires(access.can_run_rounds)
def round_decline(request, round_id):
    linkage_round = _round_or_404(round_id)
    form = DeclineForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Give the reason for declining."))
        services.decline_round(request.user, linkage_round, form.cleaned_data["reason"])
    except (ValidationError, ChannelError) as error:
        flash.error(request, " ".join(getattr(error, "messages", [str(error)])))
    else:
        flash.success(request, _("Declined: the host is told."))
    return redirect("crossborder:round", round_id=linkage_round.round_id)


def presence_context(user, case, present) -> dict:
    """The case page's "also known in" section (registered in the app's ready()): only for
    the roles of OPENNRM_CROSS_BORDER_PRESENCE_ROLES; the case page shows only cases the
    user may see."""
    if not access.can_see_presence_abroad(user):
        return {"may_see_presence_abroad": False, "presence_abroad": []}
    newest: dict[str, object] = {}
    for mark in services.presence_of(case.person):
        newest.setdefault(mark.country, mark)
    return {"may_see_presence_abroad": True, "presence_abroad": list(newest.values())}
