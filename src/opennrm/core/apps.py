from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "opennrm.core"

    def ready(self) -> None:
        # A bad data file stops start-up with its path, line and reason
        # (core.datafiles.DataFileError), not the first request that reads it.
        from opennrm.core import codelists, country_groups

        for path in codelists.CODE_LISTS.paths():
            codelists.load(path.stem)
        for path in country_groups.COUNTRY_GROUPS.paths():
            country_groups.load(path.stem)
