from django.conf import settings
from django.contrib import auth, messages
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from opennrm.accounts import services
from opennrm.accounts.forms import LoginForm


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return target
    return settings.LOGIN_REDIRECT_URL


@sensitive_post_parameters("password", "code")
@csrf_protect
@never_cache
def login_view(request):
    if request.user.is_authenticated:
        return redirect(_next_url(request))
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.log_in(request, form.cleaned_data["username"],
                            form.cleaned_data["password"], form.cleaned_data["code"])
        except services.LoginRefused as refused:
            if refused.locked_out:
                return render(request, "accounts/locked_out.html", status=429)
            form.add_error(refused.field, refused.message)
        else:
            return redirect(_next_url(request))
    return render(request, "accounts/login.html", {
        "form": form, "next": request.POST.get("next") or request.GET.get("next", ""),
        "session_minutes": max(1, settings.SESSION_COOKIE_AGE // 60)})


@require_POST
def logout_view(request):
    """Sign out; the browser sends reason=inactivity when its idle timer ran out."""
    auth.logout(request)
    if request.POST.get("reason") == "inactivity":
        messages.info(request, _("You were signed out because the page was left unused. "
                                 "Sign in again to continue."))
    return redirect(settings.LOGOUT_REDIRECT_URL)
