from django.apps import AppConfig


class JusticeConfig(AppConfig):
    """The criminal-justice side: criminal cases, the persons suspected, prosecuted or
    convicted, their links to victims' cases, international cooperation requests."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "opennrm.justice"
    verbose_name = "Criminal justice"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from opennrm.cases import signals as case_signals
        from opennrm.cases.models import Case, Person
        from opennrm.justice import signals

        # A victim's case (or its person's identity) written after the person was recorded
        # as a suspect: the non-punishment check (CETS 197 art. 26).
        post_save.connect(signals.on_person_saved, sender=Person,
                          dispatch_uid="justice-non-punishment-person")
        post_save.connect(signals.on_case_saved, sender=Case,
                          dispatch_uid="justice-non-punishment-case")
        case_signals.cases_registered.connect(signals.on_cases_registered,
                                              dispatch_uid="justice-non-punishment-registered")
