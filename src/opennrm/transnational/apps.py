from django.apps import AppConfig


class TransnationalConfig(AppConfig):
    name = "opennrm.transnational"
    verbose_name = "Transnational referral mechanism"

    def ready(self) -> None:
        # The channel's own message types (ping, pong, status_update placeholder).
        from opennrm.transnational import handlers  # noqa: F401
