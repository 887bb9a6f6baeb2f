from django.apps import AppConfig


class LinkageConfig(AppConfig):
    """Counting every person once: the node's own linkage job and review queue, and linkage
    across nodes on keyed Bloom-filter encodings. The register commands (`register`,
    `normalise`) need no database and work without this app."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "opennrm.linkage"
    verbose_name = "Record linkage"

    def ready(self) -> None:
        from opennrm.cases import access as case_access
        from opennrm.cases import registration_checks
        from opennrm.linkage import access, registration

        # A new registration is scored against the register before it is saved.
        registration_checks.register_registration_check(registration.check_registration)
        # The coordinator links the cases of a waiting pair through the ordinary
        # same-person link, whichever agencies hold them.
        case_access.register_same_person_link_grant(access.case_open_for_pair_link)
