"""The one write path for the service directory, and matching services to a case.

The directory holds no personal data of victims: every signed-in case-handling user reads
it. Directory managers (see `can_manage_directory`) change it; the staff of a provider's own
agency report the places free today. Every change is audited (object types "provider" and
"service", referenced by their HSDS id).
"""

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from opennrm.accounts.models import Agency, Role
from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_events
from opennrm.cases import services as case_services
from opennrm.cases.access import CASE_HANDLING_ROLES
from opennrm.cases.models import Case, Person
from opennrm.core import codelists
from opennrm.core.validation import clean_text
from opennrm.services.models import ContactChannel, Provider, Service

# The directory is national reference data: the NRM focal point keeps it, and the
# administrator (who sets up agencies) may do so on a small node without a coordinator.
DIRECTORY_MANAGER_ROLES = frozenset({Role.NATIONAL_COORDINATOR, Role.ADMINISTRATOR})
DIRECTORY_READER_ROLES = CASE_HANDLING_ROLES | DIRECTORY_MANAGER_ROLES
# CETS 197 art. 10(3): a person of uncertain age is presumed to be a child.
CHILD_AGES = (0, 17)
OLDEST_AGE = 200


class DirectoryAccessDenied(PermissionDenied):
    """The user may not do this to the directory (a 403 in the web UI and the API)."""


# --- permissions -------------------------------------------------------------------------

def _active(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def can_read_directory(user) -> bool:
    """Every signed-in case-handling user (and the directory managers) reads the directory."""
    return _active(user) and user.role in DIRECTORY_READER_ROLES


def can_manage_directory(user) -> bool:
    """Add and change providers and services, import and export HSDS: the national
    coordinator and the administrator."""
    return _active(user) and user.role in DIRECTORY_MANAGER_ROLES


def can_update_capacity(user, service: Service) -> bool:
    """Staff of the provider's own agency (any role but analyst/auditor), or a manager."""
    if can_manage_directory(user):
        return True
    return (_active(user) and user.role in CASE_HANDLING_ROLES and user.agency_id is not None
            and service.provider.agency_id == user.agency_id)


def ensure_can_read(user) -> None:
    if not can_read_directory(user):
        raise DirectoryAccessDenied(_("You may not read the service directory."))


def ensure_can_manage(user) -> None:
    if not can_manage_directory(user):
        raise DirectoryAccessDenied(
            _("Only the national coordinator or the administrator may change the service "
              "directory."))


# --- matching ----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Profile:
    """What matching needs to know of a person: no identity, only demographics."""

    gender: str
    ages: tuple[int, int] | None  # the range the person's age lies in; None = unknown
    age: int | None  # the age itself, when known exactly
    age_uncertain: bool
    languages: tuple[str, ...]


def _profile(case: Case, on: date) -> _Profile:
    # Only the fields matching needs: the name, documents and contacts stay encrypted.
    person = Person.objects.only(
        "gender", "birth_year", "birth_date", "age_uncertain", "languages"
    ).get(pk=case.person_id)
    age = case_services.age_on(person, on)
    if person.age_uncertain:
        ages = CHILD_AGES
    elif age is not None:
        ages = (age, age)
    elif case.age_band in codelists.entries("age_bands"):
        band = codelists.entries("age_bands")[case.age_band]
        # The band is the age at first contact: the person may have grown older since.
        grown = max(on.year - case.first_contact_on.year, 0) if case.first_contact_on else 0
        ages = (band["min"], band["max"] + grown)
    elif case.is_child:
        ages = CHILD_AGES
    else:
        ages = None
    return _Profile(person.gender, ages, None if person.age_uncertain else age,
                    person.age_uncertain, tuple(person.languages or ()))


def _age_fits(service: Service, ages: tuple[int, int] | None) -> bool:
    if ages is None:
        return True
    low, high = ages
    return ((service.min_age is None or high >= service.min_age)
            and (service.max_age is None or low <= service.max_age))


def _gender_fits(service: Service, gender: str) -> bool:
    return not service.genders or gender in service.genders


def _speaks(service: Service, languages: tuple[str, ...]) -> bool:
    return bool(set(service.languages) & set(languages))


def _free_places_rank(service: Service) -> int:
    """0: places free (or no limit), 1: not reported, 2: full."""
    if service.places_available is not None:
        return 0 if service.places_available > 0 else 2
    return 0 if service.capacity is None else 1


def matching_services(case: Case, service_type: str, on: date | None = None) -> list[Service]:
    """Active services of `service_type`, of active providers, that the case's person is
    eligible for (gender, age; uncertain age counts as a child).

    Services with free places come first, then those speaking one of the person's languages;
    within that, by name.
    """
    profile = _profile(case, on or timezone.localdate())
    services = Service.objects.filter(
        service_type=service_type, is_active=True, provider__is_active=True
    ).select_related("provider")
    if profile.ages is not None:
        low, high = profile.ages
        services = services.filter(Q(min_age__isnull=True) | Q(min_age__lte=high),
                                   Q(max_age__isnull=True) | Q(max_age__gte=low))
    # genders and languages are JSON lists: compared here, the same on SQLite and PostgreSQL.
    eligible = [service for service in services if _gender_fits(service, profile.gender)]
    return sorted(eligible, key=lambda service: (
        _free_places_rank(service), not _speaks(service, profile.languages),
        service.name, service.pk))


def eligibility_notes(service: Service, case: Case, on: date | None = None) -> list[str]:
    """What a caseworker should know before referring this case's person to `service`."""
    profile = _profile(case, on or timezone.localdate())
    notes = []
    if not _gender_fits(service, profile.gender):
        notes.append(_("Only for: %(genders)s.") % {
            "genders": ", ".join(codelists.label("genders", code) for code in service.genders)})
    if not _age_fits(service, profile.ages):
        notes.append(_("Only for ages %(ages)s.") % {"ages": age_range(service)})
    if profile.age_uncertain:
        notes.append(_("The person's age is uncertain: they are presumed to be a child."))
    elif profile.ages is None and (service.min_age is not None or service.max_age is not None):
        notes.append(_("The person's age is not recorded: check it against %(ages)s.")
                     % {"ages": age_range(service)})
    if service.languages and profile.languages and not _speaks(service, profile.languages):
        notes.append(_("Speaks none of the person's languages: an interpreter may be needed."))
    if service.places_available == 0:
        notes.append(_("No free places at the last update."))
    if service.contact_channel != ContactChannel.IN_SYSTEM or service.provider.agency_id is None:
        notes.append(_("This provider is contacted outside OpenNRM (e-mail or telephone)."))
    return notes


def age_range(service: Service) -> str:
    """The ages a service takes, for people: "18–60", "from 18", "up to 17", "all ages"."""
    if service.min_age is not None and service.max_age is not None:
        return f"{service.min_age}–{service.max_age}"
    if service.min_age is not None:
        return _("from %(age)d") % {"age": service.min_age}
    if service.max_age is not None:
        return _("up to %(age)d") % {"age": service.max_age}
    return _("all ages")


# --- validation --------------------------------------------------------------------------

PROVIDER_FIELDS = ("name", "description", "organisation_type", "agency", "email", "phone",
                   "website", "country")
SERVICE_FIELDS = ("name", "service_type", "description", "address", "city", "region",
                  "country", "genders", "min_age", "max_age", "languages", "capacity",
                  "places_available", "contact_channel", "response_days")
TEXT_LIMITS = {"name": 200, "description": 5000, "address": 300, "city": 100, "region": 100,
               "phone": 50, "email": 254, "website": 200}
REQUIRED_PROVIDER_FIELDS = ("name", "organisation_type", "country")
REQUIRED_SERVICE_FIELDS = ("name", "service_type", "country")
OLDEST_SERVICE_AGE = 120
LONGEST_RESPONSE_DAYS = 365


def _error(errors: dict, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _clean_code(data: dict, name: str, codelist: str, errors: dict) -> str:
    value = data[name]
    if not isinstance(value, str) or not value.strip():
        return ""
    value = value.strip()
    if codelist == "countries":
        value = value.upper()
    if codelists.unknown_codes(codelist, [value]):
        _error(errors, name, _("Choose a value from the list."))
    return value


def _clean_codes(data: dict, name: str, codelist: str, errors: dict) -> list[str]:
    value = data[name]
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [item.strip() for item in value.split(",")]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        _error(errors, name, _("Enter a list."))
        return []
    codes = list(dict.fromkeys(v.strip() for v in value if v.strip()))
    unknown = codelists.unknown_codes(codelist, codes)
    if unknown:
        _error(errors, name, _("Unknown code(s): %(codes)s.") % {"codes": ", ".join(unknown)})
    return codes


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
        clean["organisation_type"] = _clean_code(data, "organisation_type", "agency_types",
                                                 errors)
    if "country" in data:
        clean["country"] = _clean_code(data, "country", "countries", errors)
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
        clean["service_type"] = _clean_code(data, "service_type", "service_types", errors)
    if "country" in data:
        clean["country"] = _clean_code(data, "country", "countries", errors)
    if "contact_channel" in data:
        channel = data["contact_channel"]
        if channel not in ContactChannel.values:
            _error(errors, "contact_channel", _("Choose a value from the list."))
        clean["contact_channel"] = channel
    for name, codelist in (("genders", "genders"), ("languages", "languages")):
        if name in data:
            clean[name] = _clean_codes(data, name, codelist, errors)
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


def create_provider(actor, data: dict, channel: str = "") -> Provider:
    """Add a provider to the directory (directory managers)."""
    ensure_can_manage(actor)
    clean = clean_provider(data)
    with transaction.atomic():
        provider = Provider.objects.create(**clean)
        record_events(actor, [AuditEvent(Action.CREATE, "provider", str(provider.hsds_id),
                                         tuple(clean))], channel)
    return provider


def update_provider(actor, provider: Provider, changes: dict, channel: str = "") -> Provider:
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


def _set_active(actor, record: Provider | Service, active: bool, channel: str):
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


def deactivate_provider(actor, provider: Provider, channel: str = "") -> Provider:
    """Take a provider (and so all its services) out of matching; its history stays."""
    return _set_active(actor, provider, False, channel)


def reactivate_provider(actor, provider: Provider, channel: str = "") -> Provider:
    """Put a deactivated provider back into the directory."""
    return _set_active(actor, provider, True, channel)


# --- services ----------------------------------------------------------------------------

def _capacity_stamp(service: Service, changed: list[str]) -> None:
    if "places_available" in changed:
        service.capacity_updated_at = timezone.now()


def create_service(actor, provider: Provider, data: dict, channel: str = "") -> Service:
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


def update_service(actor, service: Service, changes: dict, channel: str = "") -> Service:
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


def deactivate_service(actor, service: Service, channel: str = "") -> Service:
    """Take a service out of matching; referrals already made to it stay."""
    return _set_active(actor, service, False, channel)


def reactivate_service(actor, service: Service, channel: str = "") -> Service:
    """Put a deactivated service back into the directory."""
    return _set_active(actor, service, True, channel)


def update_capacity(actor, service: Service, places_available: int | None,
                    channel: str = "") -> Service:
    """Record how many places are free today (`None`: not known); provider staff or managers."""
    if not can_update_capacity(actor, service):
        raise DirectoryAccessDenied(
            _("Only the staff of this provider or a directory manager may report its places."))
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
class ImportSummary:
    providers_created: int = 0
    providers_updated: int = 0
    services_created: int = 0
    services_updated: int = 0


def import_directory(actor, providers: list[ImportedProvider],
                     channel: str = "") -> ImportSummary:
    """Create or update (by HSDS id) providers and their services, all or nothing.

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
        record_events(actor, events, channel)
    return summary


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


# --- reading -----------------------------------------------------------------------------

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


def directory(user, where: DirectoryFilter = DirectoryFilter()):
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
               if (not where.gender or _gender_fits(service, where.gender))
               and (not where.language or where.language in service.languages)]
        services = services.filter(pk__in=ids)
    return services


def regions() -> list[str]:
    """The regions services are in, for the directory's filter."""
    return sorted(set(Service.objects.exclude(region="").values_list("region", flat=True)))
