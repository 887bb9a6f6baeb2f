from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "opennrm.reports"
    verbose_name = "Statistical reports (CSV, XLSX, PDF)"
    default_auto_field = "django.db.models.BigAutoField"
