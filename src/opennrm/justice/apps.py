from django.apps import AppConfig


class JusticeConfig(AppConfig):
    """The criminal-justice side: criminal cases, the persons suspected, prosecuted or
    convicted, their links to victims' cases, international cooperation requests."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "opennrm.justice"
    verbose_name = "Criminal justice"
