"""Service directory pages. Every write goes through `services.services` or `services.hsds`,
every read through `services.queries` (the API reads the same functions)."""

import io
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opennrm.core.forms import add_service_errors
from opennrm.services import access, hsds, matching, queries, services
from opennrm.services.forms import (
    CapacityForm,
    DirectoryFilterForm,
    HsdsImportForm,
    ProviderForm,
    ServiceForm,
)
from opennrm.services.models import Provider, Service

CHANNEL = "web"
PER_PAGE = 25
SERVICE_FORM_FIELDS = ("name", "service_type", "description", "address", "city", "region",
                       "country", "genders", "min_age", "max_age", "languages", "capacity",
                       "places_available", "contact_channel", "response_days")


def directory_view(view):
    """Sign-in required; a user who may not do this gets 403 (DirectoryAccessDenied is a
    PermissionDenied)."""
    return login_required(view)


def _service(user, service_id: uuid.UUID) -> Service:
    service = queries.get_service(user, service_id)
    if service is None:
        raise Http404(_("No such service."))
    return service


def _provider(user, provider_id: uuid.UUID) -> Provider:
    provider = queries.get_provider(user, provider_id)
    if provider is None:
        raise Http404(_("No such provider."))
    return provider


# --- reading -----------------------------------------------------------------------------

@directory_view
def service_directory(request):
    """The directory: services with their providers, filtered and paged."""
    access.ensure_can_read(request.user)
    form = DirectoryFilterForm(request.GET or None, regions=queries.regions())
    where = queries.DirectoryFilter()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        where = queries.DirectoryFilter(
            service_type=data["service_type"], region=data["region"],
            language=data["language"], gender=data["gender"], age=data["age"],
            free_places=data["free_places"], text=data["q"],
            include_inactive=data["include_inactive"])
    page = Paginator(queries.directory(request.user, where), PER_PAGE).get_page(
        request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "services/directory.html", {
        "filter_form": form, "page": page, "query": query.urlencode(),
        "may_manage": access.can_manage_directory(request.user)})


@directory_view
def provider_list(request):
    """The providers, active ones unless `include_inactive` (as in the API)."""
    include_inactive = request.GET.get("include_inactive") == "1"
    providers = queries.providers(request.user,
                                  queries.ProviderFilter(include_inactive=include_inactive))
    page = Paginator(providers, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "services/provider_list.html", {
        "page": page, "include_inactive": include_inactive,
        "may_manage": access.can_manage_directory(request.user)})


@directory_view
def provider_detail(request, provider_id):
    provider = _provider(request.user, provider_id)
    return render(request, "services/provider_detail.html", {
        "provider": provider, "services": queries.provider_services(request.user, provider),
        "may_manage": access.can_manage_directory(request.user)})


def _render_service(request, service: Service, capacity_form: CapacityForm | None = None):
    may_update = access.can_update_capacity(request.user, service)
    if may_update and capacity_form is None:
        capacity_form = CapacityForm(initial={"places_available": service.places_available})
    return render(request, "services/service_detail.html", {
        "service": service, "age_range": matching.age_range(service),
        "capacity_form": capacity_form if may_update else None,
        "may_manage": access.can_manage_directory(request.user)})


@directory_view
def service_detail(request, service_id):
    return _render_service(request, _service(request.user, service_id))


@require_POST
@directory_view
def service_capacity(request, service_id):
    """The provider's staff report the places free today."""
    service = _service(request.user, service_id)
    form = CapacityForm(request.POST)
    if form.is_valid():
        try:
            services.update_capacity(request.user, service,
                                     form.cleaned_data["places_available"], channel=CHANNEL)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Free places updated."))
            return redirect("service-detail", service_id=service.hsds_id)
    return _render_service(request, service, form)


# --- providers ---------------------------------------------------------------------------

def _provider_values(form: ProviderForm) -> dict:
    return dict(form.cleaned_data)


@directory_view
def provider_new(request):
    access.ensure_can_manage(request.user)
    form = ProviderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            provider = services.create_provider(request.user, _provider_values(form),
                                                channel=CHANNEL)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Provider added."))
            return redirect("provider-detail", provider_id=provider.hsds_id)
    return render(request, "services/provider_form.html", {"form": form, "provider": None})


@directory_view
def provider_edit(request, provider_id):
    provider = _provider(request.user, provider_id)
    access.ensure_can_manage(request.user)
    initial = {name: getattr(provider, name) for name in services.PROVIDER_FIELDS
               if name != "agency"}
    initial["agency"] = provider.agency.code if provider.agency else ""
    form = ProviderForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_provider(request.user, provider, _provider_values(form),
                                     channel=CHANNEL)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Provider saved."))
            return redirect("provider-detail", provider_id=provider.hsds_id)
    return render(request, "services/provider_form.html", {"form": form, "provider": provider})


@require_POST
@directory_view
def provider_set_active(request, provider_id):
    provider = _provider(request.user, provider_id)
    if request.POST.get("active") == "1":
        services.reactivate_provider(request.user, provider, channel=CHANNEL)
        messages.success(request, _("Provider reactivated."))
    else:
        services.deactivate_provider(request.user, provider, channel=CHANNEL)
        messages.success(request, _("Provider deactivated: its services no longer appear in "
                                    "the directory."))
    return redirect("provider-detail", provider_id=provider.hsds_id)


# --- services ----------------------------------------------------------------------------

def _service_values(form: ServiceForm) -> dict:
    return {name: form.cleaned_data[name] for name in SERVICE_FORM_FIELDS}


@directory_view
def service_new(request, provider_id):
    provider = _provider(request.user, provider_id)
    access.ensure_can_manage(request.user)
    initial = {"country": provider.country,
               "contact_channel": "in_system" if provider.agency_id else "email"}
    form = ServiceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            service = services.create_service(request.user, provider, _service_values(form),
                                              channel=CHANNEL)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Service added."))
            return redirect("service-detail", service_id=service.hsds_id)
    return render(request, "services/service_form.html", {
        "form": form, "provider": provider, "service": None})


@directory_view
def service_edit(request, service_id):
    service = _service(request.user, service_id)
    access.ensure_can_manage(request.user)
    initial = {name: getattr(service, name) for name in SERVICE_FORM_FIELDS}
    form = ServiceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_service(request.user, service, _service_values(form),
                                    channel=CHANNEL)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Service saved."))
            return redirect("service-detail", service_id=service.hsds_id)
    return render(request, "services/service_form.html", {
        "form": form, "provider": service.provider, "service": service})


@require_POST
@directory_view
def service_set_active(request, service_id):
    service = _service(request.user, service_id)
    if request.POST.get("active") == "1":
        services.reactivate_service(request.user, service, channel=CHANNEL)
        messages.success(request, _("Service reactivated."))
    else:
        services.deactivate_service(request.user, service, channel=CHANNEL)
        messages.success(request, _("Service deactivated: it no longer appears in the "
                                    "directory."))
    return redirect("service-detail", service_id=service.hsds_id)


# --- HSDS --------------------------------------------------------------------------------

@directory_view
def service_hsds(request):
    """Import an HSDS zip (all or nothing, with the list of problems) or download one."""
    access.ensure_can_manage(request.user)
    form = HsdsImportForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            options = hsds.ImportOptions(
                country=form.cleaned_data["country"],
                organisation_type=form.cleaned_data["organisation_type"],
                service_type=form.cleaned_data["service_type"])
            summary = hsds.import_directory(request.user, form.cleaned_data["file"],
                                            channel=CHANNEL, options=options)
        except ValidationError as error:
            problems = error.messages
            form.add_error("file", _("Nothing was imported: correct the file and upload it "
                                     "again."))
        else:
            messages.success(request, _(
                "Imported. Providers: %(providers_created)d added, %(providers_updated)d "
                "changed. Services: %(services_created)d added, %(services_updated)d "
                "changed.") % vars(summary))
            for item in summary.not_kept:
                messages.warning(request, _(
                    "Not kept: %(count)d in %(where)s (%(reason)s).") % {
                    "count": item.count, "reason": item.reason,
                    "where": f"{item.file}, {item.column}" if item.column else item.file})
            return redirect("service-hsds")
    return render(request, "services/hsds.html", {"form": form, "problems": problems})


@directory_view
def service_hsds_export(request):
    output = io.BytesIO()
    hsds.export_directory(request.user, output, channel=CHANNEL)
    response = HttpResponse(output.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = (
        'attachment; filename="opennrm-service-directory-hsds.zip"')
    return response
