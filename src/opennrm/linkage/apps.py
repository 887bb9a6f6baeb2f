from django.apps import AppConfig


class LinkageConfig(AppConfig):
    """Counting every person once: the node's own linkage job and review queue, and linkage
    across nodes on keyed Bloom-filter encodings. The register commands (`register`,
    `normalise`) need no database and work without this app."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "opennrm.linkage"
    verbose_name = "Record linkage"

    def ready(self) -> None:
        pass
