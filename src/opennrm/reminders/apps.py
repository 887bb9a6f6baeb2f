from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "opennrm.reminders"
    verbose_name = "Deadlines and reminders"
    default_auto_field = "django.db.models.BigAutoField"
