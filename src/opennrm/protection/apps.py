from django.apps import AppConfig


class ProtectionConfig(AppConfig):
    name = "opennrm.protection"
    verbose_name = "Protection timeline and support plan"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from opennrm.cases.sections import register_case_section
        from opennrm.protection.views import protection_context

        register_case_section("protection", protection_context, 30,
                              relations=("reflection_periods", "residence_permits",
                                         "support_plan", "return_plans", "proceedings",
                                         "compensation_claims"))
