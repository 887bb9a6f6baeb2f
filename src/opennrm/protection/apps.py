from django.apps import AppConfig


class ProtectionConfig(AppConfig):
    name = "opennrm.protection"
    verbose_name = "Protection timeline and support plan"
    default_auto_field = "django.db.models.BigAutoField"
