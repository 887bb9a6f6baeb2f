"""The administrator's pages (users, agencies) and everyone's own API tokens.

Administrators manage accounts and see no cases; who may is decided in `access`, the changes
are made by `provisioning`.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from opennrm.accounts import provisioning
from opennrm.accounts.access import can_manage_accounts
from opennrm.accounts.forms import (
    AgencyCreateForm,
    AgencyEditForm,
    ApiTokenForm,
    UserCreateForm,
    UserEditForm,
    UserFilterForm,
)
from opennrm.accounts.models import Agency, User
from opennrm.core.forms import add_service_errors

USERS_PER_PAGE = 50
CHANNEL = "web"


def administrator_view(view):
    """Sign-in required; anyone but an administrator gets 403."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not can_manage_accounts(request.user):
            raise PermissionDenied(gettext("Only administrators manage users and agencies."))
        return view(request, *args, **kwargs)

    return wrapper


# --- users --------------------------------------------------------------------------------

@administrator_view
def user_list(request):
    filter_form = UserFilterForm(request.GET or None)
    users = (User.objects.select_related("agency").order_by("username")
             .annotate(has_totp=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"),
                                                                  confirmed=True))))
    if filter_form.is_valid():
        if filter_form.cleaned_data["agency"]:
            users = users.filter(agency__code=filter_form.cleaned_data["agency"])
        if filter_form.cleaned_data["role"]:
            users = users.filter(role=filter_form.cleaned_data["role"])
    page = Paginator(users, USERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "accounts/admin/user_list.html",
                  {"filter_form": filter_form, "page": page})


@sensitive_post_parameters("password", "password_again")
@administrator_view
def user_new(request):
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = provisioning.create_user(
                data["username"], data["password"], data["role"], data["agency"],
                email=data["email"], actor=request.user, channel=CHANNEL)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, gettext("User %(username)s created.") % {
                "username": user.username})
            return redirect("manage-user", user_id=user.pk)
    return render(request, "accounts/admin/user_new.html", {"form": form})


def _render_user(request, account: User, form: UserEditForm, **extra):
    return render(request, "accounts/admin/user_edit.html", {
        "account": account,
        "form": form,
        "has_totp": TOTPDevice.objects.filter(user=account, confirmed=True).exists(),
        **extra,
    })


@administrator_view
def user_edit(request, user_id):
    account = get_object_or_404(User.objects.select_related("agency"), pk=user_id)
    form = UserEditForm(request.POST or None, user=account)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            provisioning.update_user(request.user, account, role=data["role"],
                                     agency_code=data["agency"], is_active=data["is_active"],
                                     channel=CHANNEL)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, gettext("Changes to %(username)s saved.") % {
                "username": account.username})
            return redirect("manage-user", user_id=account.pk)
    return _render_user(request, account, form)


@administrator_view
@require_POST
def user_totp_reset(request, user_id):
    account = get_object_or_404(User, pk=user_id)
    # Shown on this response only: the secret is in the URI and is never shown again.
    otpauth_uri = provisioning.enrol_totp(account, actor=request.user, channel=CHANNEL)
    return _render_user(request, account, UserEditForm(user=account), otpauth_uri=otpauth_uri)


@administrator_view
@require_POST
def user_totp_remove(request, user_id):
    account = get_object_or_404(User, pk=user_id)
    provisioning.remove_totp(request.user, account, channel=CHANNEL)
    messages.success(request, gettext("The authenticator app of %(username)s was removed.") % {
        "username": account.username})
    return redirect("manage-user", user_id=account.pk)


# --- agencies -----------------------------------------------------------------------------

@administrator_view
def agency_list(request):
    return render(request, "accounts/admin/agency_list.html",
                  {"agencies": Agency.objects.all()})


@administrator_view
def agency_new(request):
    form = AgencyCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            agency = provisioning.create_agency(
                data["code"], data["name"], data["agency_type"], data["country"],
                actor=request.user, channel=CHANNEL)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, gettext("Agency %(name)s created.") % {
                "name": agency.name})
            return redirect("manage-agencies")
    return render(request, "accounts/admin/agency_form.html", {"form": form, "agency": None})


@administrator_view
def agency_edit(request, code):
    agency = get_object_or_404(Agency, code=code)
    form = AgencyEditForm(request.POST or None, agency=agency)
    if request.method == "POST" and form.is_valid():
        try:
            provisioning.update_agency(request.user, agency, name=form.cleaned_data["name"],
                                       is_active=form.cleaned_data["is_active"],
                                       channel=CHANNEL)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, gettext("Changes saved."))
            return redirect("manage-agencies")
    return render(request, "accounts/admin/agency_form.html", {"form": form, "agency": agency})


# --- own API tokens -----------------------------------------------------------------------

@login_required
def api_tokens(request):
    form = ApiTokenForm(request.POST or None)
    secret = None
    # A privileged role creates tokens only in a session verified with a one-time code
    # (django-otp's OTPMiddleware sets is_verified); `provisioning` enforces it.
    verified = request.user.is_verified()
    may_create = verified or not provisioning.token_needs_second_factor(request.user)
    status = 200
    if request.method == "POST" and not may_create:
        status = 403
    elif request.method == "POST" and form.is_valid():
        try:
            _, secret = provisioning.issue_api_token(
                request.user, form.cleaned_data["name"], form.expiry_days(), channel=CHANNEL,
                read_only=form.cleaned_data["read_only"], second_factor_verified=verified)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            # Not a redirect: the secret is shown on this response only, never stored.
            form = ApiTokenForm()
    return render(request, "accounts/tokens/token_list.html", {
        "form": form,
        "may_create": may_create,
        "secret": secret,
        "tokens": request.user.api_tokens.order_by("-created_at"),
    }, status=status)


@require_POST
@login_required
def api_token_revoke(request, token_id):
    token = get_object_or_404(request.user.api_tokens, pk=token_id)
    provisioning.revoke_api_token(request.user, token, channel=CHANNEL)
    messages.success(request, gettext("The token “%(name)s” was revoked; it no longer works.")
                     % {"name": token.name})
    return redirect("api-tokens")
