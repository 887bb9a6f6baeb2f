"""The one write path for the service directory: providers, services, free places and the
import's records, each validated, checked and audited (object types "provider" and
"service", referenced by their HSDS id).

Who may do what is in `access`, matching a case to services in `matching`, the reads in
`queries`, reading and writing HSDS files in `hsds`.
"""

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from opennrm.accounts.models import Agency, User
from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_events
from opennrm.core.validation import TextLimit, clean_code, clean_codes, clean_text
from opennrm.services.access import ensure_can_manage, ensure_can_update_capacity
from opennrm.services.models import ContactChannel, HsdsRecord, Provider, Service

# --- validation --------------------------------------------------------------------------

PROVIDER_FIELDS = ("name", "description", "organisation_type", "agency", "email", "phone",
                   "website", "country")
SERVICE_FIELDS = ("name", "service_type", "description", "address", "city", "region",
                  "country", "genders", "min_age", "max_age", "languages", "capacity",
                  "places_available", "contact_channel", "response_days")
TEXT_LIMITS = {"name": TextLimit.NAME, "description": TextLimit.DESCRIPTION,
               "address": TextLimit.IDENTITY, "city": TextLimit.SHORT, "region": TextLimit.SHORT,
               "phone": TextLimit.PHONE, "email": TextLimit.EMAIL, "website": TextLimit.NAME}
REQUIRED_PROVIDER_FIELDS = ("name", "organisation_type", "country")
REQUIRED_SERVICE_FIELDS = ("name", "service_type", "country")
OLDEST_SERVICE_AGE = 120
LONGEST_RESPONSE_DAYS = 365


def _error(errors: dict, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _clean_number(data: dict, name: str, errors: dict, highest: int,
                  lowest: int = 0) -> int | None:
    value = data[name]
    if value in (None, ""):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not lowest <= value <= highest:
        _error(errors, name, _("Enter a whole number from %(lowest)d to %(highest)d.") % {
            "lowest": lowest, "highest": highest})
        return None
    return value


def _check_required(clean: dict, required: tuple[str, ...], errors: dict,
                    partial: bool) -> None:
    for name in required:
        if (not partial or name in clean) and not clean.get(name) and name not in errors:
            _error(errors, name, _("This field is required."))


def _check_unknown(data: dict, known: tuple[str, ...], errors: dict) -> None:
    for name in sorted(set(data) - set(known)):
        _error(errors, name, _("This field does not exist or cannot be changed here."))


def clean_provider(data: dict, *, partial: bool = False) -> dict:
    """Validate and normalise provider fields; ValidationError with a message per field.

    `agency` is given as the agency's code. With `partial`, only fields present are checked.
    """
    errors: dict[str, list[str]] = {}
    _check_unknown(data, PROVIDER_FIELDS, errors)
    clean: dict = {}
    for name in ("name", "description", "email", "phone", "website"):
        if name in data:
            clean[name] = clean_text(data[name], name, errors, limit=TEXT_LIMITS[name])
    if clean.get("email") and "email" not in errors:
        try:
            EmailValidator()(clean["email"])
        except ValidationError:
            _error(errors, "email", _("Enter a valid e-mail address."))
    if clean.get("website") and "website" not in errors:
        try:
            URLValidator(schemes=["http", "https"])(clean["website"])
        except ValidationError:
            _error(errors, "website", _("Enter a web address starting with https://."))
    if "organisation_type" in data:
        clean["organisation_type"] = clean_code(data["organisation_type"], "agency_types",
                                                "organisation_type", errors)
    if "country" in data:
        clean["country"] = clean_code(data["country"], "countries", "country", errors)
    if "agency" in data:
        code = data["agency"]
        if isinstance(code, Agency):
            clean["agency"] = code
        elif code in (None, ""):
            clean["agency"] = None
        else:
            agency = (Agency.objects.filter(code=code, is_active=True).first()
                      if isinstance(code, str) and "\x00" not in code else None)
            if agency is None:
                _error(errors, "agency", _("No active agency has this code."))
            clean["agency"] = agency
    _check_required(clean, REQUIRED_PROVIDER_FIELDS, errors, partial)
    if errors:
        raise ValidationError(errors)
    return clean


def clean_service(data: dict, *, partial: bool = False) -> dict:
    """Validate and normalise service fields; ValidationError with a message per field."""
    errors: dict[str, list[str]] = {}
    _check_unknown(data, SERVICE_FIELDS, errors)
    clean: dict = {}
    for name in ("name", "description", "address", "city", "region"):
        if name in data:
            clean[name] = clean_text(data[name], name, errors, limit=TEXT_LIMITS[name])
    if "service_type" in data:
        clean["service_type"] = clean_code(data["service_type"], "service_types",
                                           "service_type", errors)
    if "country" in data:
        clean["country"] = clean_code(data["country"], "countries", "country", errors)
    if "contact_channel" in data:
        channel = data["contact_channel"]
        if channel not in ContactChannel.values:
            _error(errors, "contact_channel", _("Choose a value from the list."))
        clean["contact_channel"] = channel
    for name, codelist in (("genders", "genders"), ("languages", "languages")):
        if name in data:
            clean[name] = clean_codes(data[name], codelist, name, errors)
    for name in ("min_age", "max_age"):
        if name in data:
            clean[name] = _clean_number(data, name, errors, OLDEST_SERVICE_AGE)
    for name in ("capacity", "places_available"):
        if name in data:
            clean[name] = _clean_number(data, name, errors, 100_000)
    if "response_days" in data:
        days = _clean_number(data, "response_days", errors, LONGEST_RESPONSE_DAYS, 1)
        if days is None and "response_days" not in errors:
            _error(errors, "response_days", _("This field is required."))
        clean["response_days"] = days
    _check_required(clean, REQUIRED_SERVICE_FIELDS, errors, partial)
    if errors:
        raise ValidationError(errors)
    return clean


def check_service(service: Service, errors: dict) -> None:
    """Rules between fields, checked on the service as it would be saved."""
    if (service.min_age is not None and service.max_age is not None
            and service.min_age > service.max_age):
        _error(errors, "max_age", _("The highest age is below the lowest age."))
    if (service.capacity is not None and service.places_available is not None
            and service.places_available > service.capacity):
        _error(errors, "places_available", _("More places free than the capacity."))
    if service.contact_channel == ContactChannel.IN_SYSTEM and service.provider.agency_id is None:
        _error(errors, "contact_channel", _(
            "This provider is not an agency in OpenNRM: choose e-mail or telephone."))


# --- providers ---------------------------------------------------------------------------

def _apply(instance, values: dict) -> list[str]:
    changed = []
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed


def create_provider(actor: User, data: dict, channel: str = "") -> Provider:
    """Add a provider to the directory (directory managers)."""
    ensure_can_manage(actor)
    clean = clean_provider(data)
    with transaction.atomic():
        provider = Provider.objects.create(**clean)
        record_events(actor, [AuditEvent(Action.CREATE, "provider", str(provider.hsds_id),
                                         tuple(clean))], channel)
    return provider


def update_provider(actor: User, provider: Provider, changes: dict,
                    channel: str = "") -> Provider:
    """Change a provider's fields; only the fields that changed are audited."""
    ensure_can_manage(actor)
    clean = clean_provider(changes, partial=True)
    with transaction.atomic():
        provider = Provider.objects.select_for_update().get(pk=provider.pk)
        changed = _apply(provider, clean)
        errors: dict = {}
        if "agency" in changed and provider.agency_id is None:
            for service in provider.services.filter(contact_channel=ContactChannel.IN_SYSTEM):
                service.provider = provider
                check_service(service, errors)
        if errors:
            raise ValidationError({"agency": [_(
                "Services of this provider take referrals in OpenNRM: change their contact "
                "channel first.")]})
        if not changed:
            return provider
        provider.updated_at = timezone.now()
        provider.save()
        record_events(actor, [AuditEvent(Action.UPDATE, "provider", str(provider.hsds_id),
                                         tuple(changed))], channel)
    return provider


def _set_active(actor: User, record: Provider | Service, active: bool,
                channel: str) -> Provider | Service:
    """Take a provider or a service out of the directory or put it back (audited)."""
    ensure_can_manage(actor)
    with transaction.atomic():
        record = type(record).objects.select_for_update().get(pk=record.pk)
        if record.is_active == active:
            return record
        record.is_active = active
        record.updated_at = timezone.now()
        record.save(update_fields=["is_active", "updated_at"])
        record_events(actor, [AuditEvent(Action.UPDATE, record._meta.model_name,
                                         str(record.hsds_id), ("is_active",))], channel)
    return record


def deactivate_provider(actor: User, provider: Provider, channel: str = "") -> Provider:
    """Take a provider (and so all its services) out of matching; its history stays."""
    return _set_active(actor, provider, False, channel)


def reactivate_provider(actor: User, provider: Provider, channel: str = "") -> Provider:
    """Put a deactivated provider back into the directory."""
    return _set_active(actor, provider, True, channel)


# --- services ----------------------------------------------------------------------------

def _capacity_stamp(service: Service, changed: list[str]) -> None:
    if "places_available" in changed:
        service.capacity_updated_at = timezone.now()


def create_service(actor: User, provider: Provider, data: dict, channel: str = "") -> Service:
    """Add a service of `provider` (directory managers)."""
    ensure_can_manage(actor)
    clean = clean_service(data)
    with transaction.atomic():
        service = Service(provider=provider, **{
            name: value for name, value in clean.items()
            if value is not None or name not in ("contact_channel", "response_days")})
        errors: dict = {}
        check_service(service, errors)
        if errors:
            raise ValidationError(errors)
        _capacity_stamp(service, [] if service.places_available is None
                        else ["places_available"])
        service.save()
        record_events(actor, [AuditEvent(Action.CREATE, "service", str(service.hsds_id),
                                         tuple(clean))], channel)
    return service


def update_service(actor: User, service: Service, changes: dict, channel: str = "") -> Service:
    """Change a service's fields; only the fields that changed are audited."""
    ensure_can_manage(actor)
    clean = clean_service(changes, partial=True)
    with transaction.atomic():
        service = Service.objects.select_for_update().select_related("provider").get(
            pk=service.pk)
        changed = _apply(service, clean)
        errors: dict = {}
        check_service(service, errors)
        if errors:
            raise ValidationError(errors)
        if not changed:
            return service
        _capacity_stamp(service, changed)
        service.updated_at = timezone.now()
        service.save()
        record_events(actor, [AuditEvent(Action.UPDATE, "service", str(service.hsds_id),
                                         tuple(changed))], channel)
    return service


def deactivate_service(actor: User, service: Service, channel: str = "") -> Service:
    """Take a service out of matching; referrals already made to it stay."""
    return _set_active(actor, service, False, channel)


def reactivate_service(actor: User, service: Service, channel: str = "") -> Service:
    """Put a deactivated service back into the directory."""
    return _set_active(actor, service, True, channel)


def update_capacity(actor: User, service: Service, places_available: int | None,
                    channel: str = "") -> Service:
    """Record how many places are free today (`None`: not known); provider staff or managers."""
    ensure_can_update_capacity(actor, service)
    clean = clean_service({"places_available": places_available}, partial=True)
    with transaction.atomic():
        service = Service.objects.select_for_update().select_related("provider").get(
            pk=service.pk)
        service.places_available = clean["places_available"]
        errors: dict = {}
        check_service(service, errors)
        if "places_available" in errors:
            raise ValidationError({"places_available": errors["places_available"]})
        service.capacity_updated_at = timezone.now()
        service.save(update_fields=["places_available", "capacity_updated_at"])
        record_events(actor, [AuditEvent(Action.UPDATE, "service", str(service.hsds_id),
                                         ("places_available",))], channel)
    return service


# --- import ------------------------------------------------------------------------------

@dataclass
class ImportedService:
    """A service read from an import, its fields already cleaned by `clean_service`."""

    hsds_id: uuid.UUID
    values: dict
    is_active: bool = True
    updated_at: datetime | None = None
    capacity_updated_at: datetime | None = None


@dataclass
class ImportedProvider:
    """A provider read from an import, its fields already cleaned by `clean_provider`."""

    hsds_id: uuid.UUID
    values: dict
    is_active: bool = True
    services: list[ImportedService] = field(default_factory=list)


@dataclass
class ImportedRecord:
    """A row of an import kept as it was read (`HsdsRecord`), with the provider or the
    service it belongs to (by HSDS id; neither: the directory's)."""

    table: str
    row_id: str
    values: dict
    provider_id: uuid.UUID | None = None
    service_id: uuid.UUID | None = None


@dataclass
class NotKept:
    """Values of an import that are not kept: how many, in which file and column, and why."""

    file: str
    column: str
    count: int
    reason: str


@dataclass
class ImportSummary:
    providers_created: int = 0
    providers_updated: int = 0
    services_created: int = 0
    services_updated: int = 0
    # Rows kept as they are, by HSDS table, and what is not kept.
    rows_kept: dict[str, int] = field(default_factory=dict)
    not_kept: list[NotKept] = field(default_factory=list)


def import_directory(actor: User, providers: list[ImportedProvider],
                     channel: str = "", records: list[ImportedRecord] = ()) -> ImportSummary:
    """Create or update (by HSDS id) providers and their services, all or nothing, and keep
    the import's other rows (`records`): those of a provider or service imported replace
    the ones it had.

    Providers and services missing from the import are left as they are: an import adds
    and corrects, it never deletes.
    """
    ensure_can_manage(actor)
    summary = ImportSummary()
    events: list[AuditEvent] = []
    now = timezone.now()
    with transaction.atomic():
        for record in providers:
            provider = Provider.objects.select_for_update().filter(
                hsds_id=record.hsds_id).first()
            created = provider is None
            provider = provider or Provider(hsds_id=record.hsds_id)
            changed = _apply(provider, {**record.values, "is_active": record.is_active})
            if created or changed:
                provider.updated_at = now
                provider.save()
                events.append(AuditEvent(Action.CREATE if created else Action.UPDATE,
                                         "provider", str(provider.hsds_id), tuple(changed)))
                if created:
                    summary.providers_created += 1
                else:
                    summary.providers_updated += 1
            for item in record.services:
                _import_service(provider, item, now, summary, events)
        _keep_records(providers, records, summary)
        record_events(actor, events, channel)
    return summary


def _keep_records(providers: list[ImportedProvider], records: list[ImportedRecord],
                  summary: ImportSummary) -> None:
    provider_ids = dict(Provider.objects.filter(
        hsds_id__in=[record.hsds_id for record in providers]).values_list("hsds_id", "pk"))
    service_ids = dict(Service.objects.filter(
        hsds_id__in=[item.hsds_id for record in providers for item in record.services]
    ).values_list("hsds_id", "pk"))
    HsdsRecord.objects.filter(provider_id__in=provider_ids.values()).delete()
    HsdsRecord.objects.filter(service_id__in=service_ids.values()).delete()
    by_table: dict[str, list[str]] = {}
    for record in records:
        by_table.setdefault(record.table, []).append(record.row_id)
    for table, row_ids in by_table.items():
        HsdsRecord.objects.filter(table=table, row_id__in=row_ids).delete()
    HsdsRecord.objects.bulk_create([
        HsdsRecord(table=record.table, row_id=record.row_id, values=record.values,
                   provider_id=provider_ids.get(record.provider_id),
                   service_id=service_ids.get(record.service_id))
        for record in records])
    summary.rows_kept = dict(sorted(Counter(record.table for record in records).items()))


def _import_service(provider: Provider, item: ImportedService, now: datetime,
                    summary: ImportSummary, events: list[AuditEvent]) -> None:
    service = Service.objects.select_for_update().filter(hsds_id=item.hsds_id).first()
    created = service is None
    service = service or Service(hsds_id=item.hsds_id)
    values = {name: value for name, value in item.values.items()
              if value is not None or name not in ("contact_channel", "response_days")}
    changed = _apply(service, {**values, "is_active": item.is_active})
    if service.provider_id != provider.pk:
        service.provider = provider
        changed.append("provider")
    errors: dict = {}
    check_service(service, errors)
    if errors:
        # The import checks these rules before writing; reaching here is a bug, not input.
        raise ValidationError(errors)
    if "places_available" in changed or (created and item.capacity_updated_at):
        service.capacity_updated_at = item.capacity_updated_at or now
    if not (created or changed):
        return
    service.updated_at = item.updated_at or now
    service.save()
    events.append(AuditEvent(Action.CREATE if created else Action.UPDATE, "service",
                             str(service.hsds_id), tuple(changed)))
    if created:
        summary.services_created += 1
    else:
        summary.services_updated += 1
