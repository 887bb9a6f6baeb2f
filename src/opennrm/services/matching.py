"""Matching a case to the services of the directory its person is eligible for.

Only the person's gender, birth year or birth date, age-uncertain flag and languages are
read: names, documents and contacts are not even loaded (decrypted).

Every service of the directory is offered, in OpenNRM or not: a service whose provider is no
agency of this node (`takes_referrals_in_opennrm`) is referred to outside OpenNRM, the
referral recorded and the provider contacted by the caseworker.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from opennrm.cases import services as case_services
from opennrm.cases.models import Case, Person
from opennrm.core import codelists
from opennrm.services.models import ContactChannel, Service

# CETS 197 art. 10(3): a person of uncertain age is presumed to be a child.
CHILD_AGES = (0, 17)


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
        "gender", "birth_year", "birth_date", "age_uncertainty", "languages"
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


def gender_fits(service: Service, gender: str) -> bool:
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
    ).select_related("provider", "provider__agency")
    if profile.ages is not None:
        low, high = profile.ages
        services = services.filter(Q(min_age__isnull=True) | Q(min_age__lte=high),
                                   Q(max_age__isnull=True) | Q(max_age__gte=low))
    # genders and languages are JSON lists: compared here, the same on SQLite and PostgreSQL.
    eligible = [service for service in services if gender_fits(service, profile.gender)]
    return sorted(eligible, key=lambda service: (
        _free_places_rank(service), not _speaks(service, profile.languages),
        service.name, service.pk))


def eligibility_notes(service: Service, case: Case, on: date | None = None) -> list[str]:
    """What a caseworker should know before referring this case's person to `service`."""
    profile = _profile(case, on or timezone.localdate())
    notes = []
    if not gender_fits(service, profile.gender):
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
    if not takes_referrals_in_opennrm(service):
        notes.append(_("Outside OpenNRM: the referral is recorded, you contact them (e-mail or "
                       "telephone)."))
    return notes


def takes_referrals_in_opennrm(service: Service) -> bool:
    """The provider receives referrals in OpenNRM: an active agency of this node, reached in
    the system. Any other service is referred to outside OpenNRM."""
    agency = service.provider.agency
    return (agency is not None and agency.is_active
            and service.contact_channel == ContactChannel.IN_SYSTEM)


def age_range(service: Service) -> str:
    """The ages a service takes, for people: "18–60", "from 18", "up to 17", "all ages"."""
    if service.min_age is not None and service.max_age is not None:
        return f"{service.min_age}–{service.max_age}"
    if service.min_age is not None:
        return _("from %(age)d") % {"age": service.min_age}
    if service.max_age is not None:
        return _("up to %(age)d") % {"age": service.max_age}
    return _("all ages")
