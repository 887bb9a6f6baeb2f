from django.apps import AppConfig


class RegionalConfig(AppConfig):
    """Regional knowledge: disclosure-controlled statistics releases exchanged between nodes,
    and a regional view that counts each person once across countries."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "opennrm.regional"
    verbose_name = "Regional statistics"

    def ready(self) -> None:
        pass
