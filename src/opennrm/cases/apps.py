from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "opennrm.cases"

    def ready(self) -> None:
        # The case page's own "Caseworker and agency" part, in the same registry as the
        # sections of the apps above.
        from opennrm.cases.assignment_views import case_section_context
        from opennrm.cases.sections import register_case_section

        register_case_section("assignment", case_section_context, 5)
