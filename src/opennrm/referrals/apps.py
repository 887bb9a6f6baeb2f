from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "opennrm.referrals"
    verbose_name = "Referrals and assistance"
    default_auto_field = "django.db.models.BigAutoField"
