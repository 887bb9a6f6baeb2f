"""The directory's reads, one function per query, used by the web pages and the API alike.

Deactivating takes a provider (and so all its services) or a service out of the directory:
the lists show active entries unless asked for inactive ones too (docs/service-directory.md).
"""

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet

from opennrm.services.access import ensure_can_read
from opennrm.services.matching import gender_fits
from opennrm.services.models import Provider, Service

if TYPE_CHECKING:
    from opennrm.accounts.models import User


@dataclass(frozen=True)
class DirectoryFilter:
    """What the directory page and the API filter services by; empty = any."""

    service_type: str = ""
    country: str = ""
    region: str = ""
    language: str = ""
    gender: str = ""
    age: int | None = None
    free_places: bool = False
    provider: str = ""  # a provider's HSDS id
    text: str = ""
    include_inactive: bool = False


def directory(user: "User | None",
              where: DirectoryFilter = DirectoryFilter()) -> QuerySet[Service]:
    """Services matching `where`, with their providers (active ones unless asked)."""
    ensure_can_read(user)
    services = Service.objects.select_related("provider", "provider__agency")
    if not where.include_inactive:
        services = services.filter(is_active=True, provider__is_active=True)
    if where.service_type:
        services = services.filter(service_type=where.service_type)
    if where.country:
        services = services.filter(country=where.country.upper())
    if where.region:
        services = services.filter(region__iexact=where.region.strip())
    if where.age is not None:
        services = services.filter(Q(min_age__isnull=True) | Q(min_age__lte=where.age),
                                   Q(max_age__isnull=True) | Q(max_age__gte=where.age))
    if where.free_places:
        services = services.filter(Q(places_available__gt=0)
                                   | Q(places_available__isnull=True, capacity__isnull=True))
    if where.provider:
        try:
            services = services.filter(provider__hsds_id=uuid.UUID(str(where.provider)))
        except ValueError:
            return services.none()
    if where.text:
        services = services.filter(Q(name__icontains=where.text)
                                   | Q(provider__name__icontains=where.text)
                                   | Q(city__icontains=where.text))
    if where.gender or where.language:
        # JSON lists: compared in Python, the same on SQLite and PostgreSQL. The directory
        # is hundreds of services, not millions.
        ids = [service.pk for service in services.select_related(None).only(
                   "pk", "genders", "languages")
               if (not where.gender or gender_fits(service, where.gender))
               and (not where.language or where.language in service.languages)]
        services = services.filter(pk__in=ids)
    return services


def regions() -> list[str]:
    """The regions services are in, for the directory's filter."""
    return sorted(set(Service.objects.exclude(region="").values_list("region", flat=True)))


def get_service(user: "User | None", service_id: uuid.UUID) -> Service | None:
    """The service with this HSDS id, with its provider, active or not; None if none."""
    ensure_can_read(user)
    return (Service.objects.select_related("provider", "provider__agency")
            .filter(hsds_id=service_id).first())


@dataclass(frozen=True)
class ProviderFilter:
    """What the provider lists filter by; empty = any."""

    text: str = ""
    country: str = ""
    organisation_type: str = ""
    include_inactive: bool = False


def providers(user: "User | None",
              where: ProviderFilter = ProviderFilter()) -> QuerySet[Provider]:
    """Providers matching `where` (active ones unless asked), by name, each with the number
    of its active services (`service_count`)."""
    ensure_can_read(user)
    # Ordered here: with GROUP BY (the count) the model's default ordering does not apply.
    found = Provider.objects.select_related("agency").annotate(
        service_count=Count("services", filter=Q(services__is_active=True))
    ).order_by("name", "id")
    if not where.include_inactive:
        found = found.filter(is_active=True)
    if where.text:
        found = found.filter(name__icontains=where.text)
    if where.country:
        found = found.filter(country=where.country.upper())
    if where.organisation_type:
        found = found.filter(organisation_type=where.organisation_type)
    return found


def get_provider(user: "User | None", provider_id: uuid.UUID) -> Provider | None:
    """The provider with this HSDS id, active or not; None if none."""
    ensure_can_read(user)
    return Provider.objects.select_related("agency").filter(hsds_id=provider_id).first()


def provider_services(user: "User | None", provider: Provider) -> QuerySet[Service]:
    """All the services of `provider`, active or not (its page lists and marks them)."""
    ensure_can_read(user)
    return provider.services.select_related("provider")
