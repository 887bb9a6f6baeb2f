from django.apps import AppConfig


class ProtectionConfig(AppConfig):
    name = "opennrm.protection"
    verbose_name = "Protection timeline and support plan"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from opennrm.cases.sections import register_case_section
        from opennrm.protection import checks, deadlines
        from opennrm.protection.services import expire_residence_permits
        from opennrm.protection.views import protection_context
        from opennrm.reminders.deadlines import register_deadline_source
        from opennrm.reminders.tasks import register_sweep_step

        register_case_section("protection", protection_context, 30,
                              relations=("reflection_periods", "residence_permits",
                                         "support_plan", "return_plans", "proceedings",
                                         "compensation_claims"))
        register_deadline_source("reflection_period_ending",
                                 deadlines.reflection_periods_ending, 20)
        register_deadline_source("residence_permit_expiring",
                                 deadlines.residence_permits_expiring, 30)
        register_deadline_source("support_plan_review", deadlines.support_plan_reviews_due, 40)
        register_sweep_step("expire_residence_permits", expire_residence_permits)
        del checks  # imported for its registered system checks
