from django.apps import AppConfig


class StatisticsConfig(AppConfig):
    name = "opennrm.statistics"
    label = "nrm_statistics"
    verbose_name = "Statistics and releases"
    default_auto_field = "django.db.models.BigAutoField"
