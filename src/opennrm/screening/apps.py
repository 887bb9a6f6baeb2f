from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "opennrm.screening"
    verbose_name = "Screening and identification"
    default_auto_field = "django.db.models.BigAutoField"
