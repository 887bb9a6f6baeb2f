from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "opennrm.reminders"
    verbose_name = "Deadlines and reminders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the receiver that queues the e-mail job when notifications are stored.
        from opennrm.reminders import tasks  # noqa: F401
