from pathlib import Path

from django.apps import AppConfig


class RegionalConfig(AppConfig):
    """Regional knowledge: disclosure-controlled statistics releases exchanged between nodes,
    and a regional view that counts each person once across countries."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "opennrm.regional"
    verbose_name = "Regional statistics"

    def ready(self) -> None:
        # The `statistics_release` message type on the transnational channel: its schema
        # (served at /trm/v1/schemas) and the handler that keeps a partner's release.
        from opennrm.regional import services
        from opennrm.transnational.schemas import register_schema_dir

        register_schema_dir(Path(__file__).resolve().parent / "schemas")
        services.register()
