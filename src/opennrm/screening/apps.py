from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "opennrm.screening"
    verbose_name = "Screening and identification"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from opennrm.cases.sections import register_case_section
        from opennrm.screening.views import identification_context

        register_case_section("identification", identification_context, 10,
                              relations=("screenings", "identification_decisions"))

        # A bad indicator list (a country's too) stops start-up, not the first screening.
        from opennrm.screening import indicator_sets
        indicator_sets.all_sets()
