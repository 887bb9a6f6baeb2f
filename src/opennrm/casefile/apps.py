from django.apps import AppConfig


class CasefileConfig(AppConfig):
    name = "opennrm.casefile"
    verbose_name = "Case notes and documents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from opennrm.casefile.views import case_file_context
        from opennrm.cases.sections import register_case_section

        register_case_section("casefile", case_file_context, 40,
                              relations=("journal_entries", "attachments"))
