from django.apps import AppConfig


class ServicesConfig(AppConfig):
    name = "opennrm.services"
    verbose_name = "Service directory"
    default_auto_field = "django.db.models.BigAutoField"
