from django.apps import AppConfig


class CrossBorderLinkageConfig(AppConfig):
    """Linkage across nodes without a name crossing a border: keyed, hardened Bloom-filter
    encodings go over the transnational channel to a linkage host, and only group ids come
    back ("this person is also known in country X")."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "opennrm.linkage.crossborder"
    label = "crossborder"
    verbose_name = "Cross-border linkage"

    def ready(self) -> None:
        pass
