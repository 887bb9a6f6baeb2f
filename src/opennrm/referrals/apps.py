from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "opennrm.referrals"
    verbose_name = "Referrals and assistance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the receiver that stops referrals when their consent is withdrawn.
        from opennrm.referrals import services  # noqa: F401
