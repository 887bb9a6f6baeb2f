"""The node administrator's pages: this node's identity and keys (set up, card, rotate,
revoke), importing a partner's card, and each partner's allowed message types and state.

The views are thin: `identity`, `services` and `keys` check who may, validate, write and
audit; a view reads its form, calls one of them and shows the outcome. Every page is for
those who manage partner nodes (`access.can_manage_partners`); anyone else gets 403.
"""

import json
from functools import wraps

from django import forms
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from opennrm.core import codelists
from opennrm.transnational import access, keys, receiving, schemas, services
from opennrm.transnational.identity import (
    FingerprintMismatch,
    IdentityError,
    card_fingerprint,
    format_fingerprint,
    import_partner,
    init_node,
    node_card,
)
from opennrm.transnational.models import Node, Partner

CARD_MAX_BYTES = 64 * 1024


def manager_view(view):
    """Sign-in required; anyone who does not manage partner nodes gets 403."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        access.ensure_can_manage_partners(request.user)
        return view(request, *args, **kwargs)

    return wrapper


class ConfirmedForm(forms.Form):
    """A form for a change that cannot be undone: a box to tick (`confirm`) first."""

    def clean_confirm(self):
        if not self.cleaned_data.get("confirm"):
            raise forms.ValidationError(_("Tick the box to confirm."))
        return True


class NodeInitForm(forms.Form):
    country = forms.ChoiceField(label=gettext_lazy("Country of this node"))
    name = forms.CharField(label=gettext_lazy("Name shown to partners"), max_length=200,
                           help_text=gettext_lazy("For example: Moldova NRM."))
    endpoint = forms.CharField(
        label=gettext_lazy("Address partners reach this node at"), max_length=300,
        help_text=gettext_lazy("The base URL of this node, for example "
                               "https://trm.example.md"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", "—"), *codelists.choices("countries")]


class RotateForm(ConfirmedForm):
    prefix = "rotate"  # beside the revocation form on the node's page
    confirm = forms.BooleanField(required=False, label=gettext_lazy(
        "I understand that this node signs and receives with new keys from now on, and that "
        "every active partner is sent the new card."))


class RevokeForm(ConfirmedForm):
    prefix = "revoke"
    kid = forms.ChoiceField(label=gettext_lazy("Key"))
    reason = forms.CharField(label=gettext_lazy("Reason (the partners are told)"),
                             max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    confirm = forms.BooleanField(required=False, label=gettext_lazy(
        "I understand that a revoked key is never used again: the partners refuse what is "
        "signed with it and messages sealed to it no longer open."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kid"].choices = [
            (key.kid, f"{key.kid} ({_('signing') if key.use == 'sig' else _('encryption')}, "
                      f"{key.created})") for key in keys.revocable_keys()]


class ImportForm(forms.Form):
    card_text = forms.CharField(
        label=gettext_lazy("The partner's card (JSON)"), required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text=gettext_lazy("Paste the card, or choose its file below."))
    card_file = forms.FileField(label=gettext_lazy("The card's file"), required=False)
    fingerprint = forms.CharField(
        label=gettext_lazy("Fingerprint read out by the partner's administrator"),
        max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off",
                                                      "spellcheck": "false"}),
        help_text=gettext_lazy("64 hexadecimal digits in groups of four. Take them by "
                               "telephone or in person from the partner's administrator, "
                               "never from the message that brought the card."))

    def clean(self):
        data = super().clean()
        upload = data.get("card_file")
        text = data.get("card_text", "").strip()
        if upload and text:
            raise forms.ValidationError(_("Paste the card or choose its file, not both."))
        if upload:
            if upload.size > CARD_MAX_BYTES:
                self.add_error("card_file", _("A node card is a small file; this one is too "
                                              "large."))
                return data
            text = upload.read().decode("utf-8", errors="replace")
        if not text:
            self.add_error("card_text", _("Paste the partner's card or choose its file."))
            return data
        try:
            data["card"] = json.loads(text)
        except ValueError:
            self.add_error("card_file" if upload else "card_text",
                           _("This is not a node card: it is not valid JSON."))
        return data


class AllowedTypesForm(forms.Form):
    types = forms.MultipleChoiceField(label=gettext_lazy("Message types exchanged"),
                                      required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["types"].choices = [(name, name) for name in choosable_types()]


class PartnerStatusForm(forms.Form):
    # The state asked for (the button pressed), not a toggle: a form sent twice does not
    # undo itself.
    status = forms.ChoiceField(choices=Partner.Status.choices, widget=forms.HiddenInput)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500)


def choosable_types() -> list[str]:
    """The message types an administrator allows per partner: every type with a schema,
    except the channel's control messages (every active partner may send those)."""
    nobody = Partner(allowed_types=[])
    return [name for name in schemas.message_types() if not receiving.is_allowed(nobody, name)]


# --- this node ----------------------------------------------------------------------------------

def _render_node(request, rotate_form=None, revoke_form=None, status=200):
    card = node_card()
    return render(request, "transnational/node_detail.html", {
        "node": Node.objects.get(), "card": card,
        "fingerprint": format_fingerprint(card_fingerprint(card)),
        "node_keys": keys.node_keys(),
        "rotate_form": rotate_form or RotateForm(),
        "revoke_form": revoke_form or RevokeForm(),
        "suspended": Partner.objects.filter(status=Partner.Status.SUSPENDED).exists(),
    }, status=status)


@manager_view
def node_page(request):
    """This node: its identity, card and keys; or, before it has one, the form to set it up."""
    if Node.objects.exists():
        return _render_node(request)
    form = NodeInitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            init_node(request.user, data["country"], data["name"], data["endpoint"])
        except IdentityError as error:
            form.add_error(None, str(error))
        else:
            flash.success(request, _("This node has its identity. Send its card to each "
                                     "partner and read them the fingerprint."))
            return redirect("trm-node")
    return render(request, "transnational/node_init.html", {"form": form})


@manager_view
def node_card_download(request):
    try:
        card = node_card()
    except IdentityError:
        return redirect("trm-node")
    response = HttpResponse(json.dumps(card, indent=2) + "\n", content_type="application/json")
    response["Content-Disposition"] = (
        f'attachment; filename="opennrm-node-card-{card["country"].lower()}.json"')
    return response


def _announced(request, announcement) -> None:
    flash.success(request, _("The new fingerprint is %(fingerprint)s. Partners told: "
                             "%(told)s.") % {
        "fingerprint": format_fingerprint(announcement.fingerprint),
        "told": ", ".join(str(p) for p in announcement.told) or _("none")})
    if announcement.not_told:
        flash.warning(request, _("Not told, because suspended: %(partners)s. After resuming "
                                 "one, exchange cards again (import with the fingerprint).")
                      % {"partners": ", ".join(str(p) for p in announcement.not_told)})


@manager_view
@require_POST
def node_rotate(request):
    form = RotateForm(request.POST)
    if not form.is_valid():
        return _render_node(request, rotate_form=form, status=400)
    try:
        announcement = keys.rotate_keys(request.user)
    except (IdentityError, services.ChannelError) as error:
        form.add_error(None, str(error))
        return _render_node(request, rotate_form=form, status=400)
    _announced(request, announcement)
    return redirect("trm-node")


@manager_view
@require_POST
def node_revoke(request):
    form = RevokeForm(request.POST)
    if not form.is_valid():
        return _render_node(request, revoke_form=form, status=400)
    try:
        announcement = keys.revoke_key(request.user, form.cleaned_data["kid"],
                                       form.cleaned_data["reason"])
    except (IdentityError, services.ChannelError) as error:
        form.add_error(None, str(error))
        return _render_node(request, revoke_form=form, status=400)
    flash.success(request, _("The key %(kid)s is revoked.") % {"kid": form.cleaned_data["kid"]})
    _announced(request, announcement)
    return redirect("trm-node")


# --- partners -----------------------------------------------------------------------------------

@manager_view
def partner_import_page(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            partner = import_partner(request.user, form.cleaned_data["card"],
                                     form.cleaned_data["fingerprint"])
        except FingerprintMismatch:
            form.add_error("fingerprint", _(
                "The fingerprint does not match the card. Nothing was imported: ask the "
                "partner's administrator for the card again and check the fingerprint with "
                "them."))
        except IdentityError as error:
            form.add_error(None, str(error))
        else:
            flash.success(request, _("%(partner)s imported. Choose the message types "
                                     "exchanged with it.") % {"partner": partner})
            return redirect("trm-partner", node_id=partner.node_id)
    return render(request, "transnational/partner_import.html", {"form": form},
                  status=400 if form.errors else 200)


def _render_partner(request, partner, types_form=None, status_form=None, status=200):
    return render(request, "transnational/partner_detail.html", {
        "partner": partner,
        "fingerprint": format_fingerprint(partner.fingerprint),
        "types_form": types_form or AllowedTypesForm(
            initial={"types": partner.allowed_types}),
        "status_form": status_form or PartnerStatusForm(),
    }, status=status)


@manager_view
def partner_page(request, node_id):
    return _render_partner(request, get_object_or_404(Partner, node_id=node_id))


@manager_view
@require_POST
def partner_types(request, node_id):
    partner = get_object_or_404(Partner, node_id=node_id)
    form = AllowedTypesForm(request.POST)
    if not form.is_valid():
        return _render_partner(request, partner, types_form=form, status=400)
    try:
        services.allow_types(request.user, partner, form.cleaned_data["types"])
    except services.ChannelError as error:
        form.add_error(None, str(error))
        return _render_partner(request, partner, types_form=form, status=400)
    flash.success(request, _("The message types exchanged with %(partner)s are saved.")
                  % {"partner": partner})
    return redirect("trm-partner", node_id=partner.node_id)


@manager_view
@require_POST
def partner_status(request, node_id):
    partner = get_object_or_404(Partner, node_id=node_id)
    form = PartnerStatusForm(request.POST)
    if not form.is_valid():
        return _render_partner(request, partner, status_form=form, status=400)
    services.set_partner_status(request.user, partner, form.cleaned_data["status"],
                                form.cleaned_data["reason"])
    if partner.status == Partner.Status.SUSPENDED:
        flash.success(request, _("Exchange with %(partner)s is suspended: its messages are "
                                 "refused and none are sent to it.") % {"partner": partner})
    else:
        flash.success(request, _("Exchange with %(partner)s is resumed.") % {"partner": partner})
    return redirect("trm-partner", node_id=partner.node_id)
