from pathlib import Path

from django.apps import AppConfig


class CrossBorderLinkageConfig(AppConfig):
    """Linkage across nodes without a name crossing a border: keyed, hardened Bloom-filter
    encodings go over the transnational channel to a linkage host, and only group ids come
    back ("this person is also known in country X")."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "opennrm.linkage.crossborder"
    label = "crossborder"
    verbose_name = "Cross-border linkage"

    def ready(self) -> None:
        # The linkage message types (schemas and handlers) on the transnational channel, the
        # case page's "also known in" section, and the deadline sweep's step that closes
        # overdue rounds and takes up work a dead process left.
        from opennrm.cases.sections import register_case_section
        from opennrm.linkage.crossborder import handlers, services
        from opennrm.linkage.crossborder.views import presence_context
        from opennrm.reminders.tasks import register_sweep_step
        from opennrm.transnational.schemas import register_schema_dir

        register_schema_dir(Path(__file__).resolve().parent / "schemas")
        handlers.register()
        register_case_section("presence_abroad", presence_context, 46)
        register_sweep_step("linkage_rounds", services.sweep_rounds)
