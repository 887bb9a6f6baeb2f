"""Receivers of the justice app, connected in `JusticeConfig.ready`.

A victim's case registered, or its person's identity changed, after that person was
recorded as a suspect: the non-punishment check runs for the suspects of that name and birth
date (`non_punishment`), in the transaction of the change.
"""

from opennrm.cases.models import Case, Person, VictimStatus
from opennrm.justice.non_punishment import check_suspects_named


def on_person_saved(sender, instance: Person, raw: bool = False, **kwargs) -> None:
    """A person's identity written: their blind index may now match a suspect."""
    if not raw and instance.name_index:
        check_suspects_named([instance.name_index])


def on_case_saved(sender, instance: Case, raw: bool = False, **kwargs) -> None:
    """A case saved (registered for a known person, its victim status decided again)."""
    if raw or instance.victim_status == VictimStatus.NOT_A_VICTIM:
        return
    check_suspects_named(Person.objects.filter(pk=instance.person_id)
                         .values_list("name_index", flat=True))


def on_cases_registered(sender, cases, **kwargs) -> None:
    """Cases registered in one batch (`cases.services.register_cases` writes them with
    `bulk_create`, which sends no `post_save`)."""
    check_suspects_named(Person.objects.filter(pk__in=[case.person_id for case in cases])
                         .values_list("name_index", flat=True))
