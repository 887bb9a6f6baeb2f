from django.apps import AppConfig


class StatisticsConfig(AppConfig):
    name = "opennrm.statistics"
    label = "nrm_statistics"
    verbose_name = "Statistics and releases"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # A bad table definition, population file or CTDC mapping stops start-up with its
        # path, line and reason (core.datafiles.DataFileError). Importing `extracts` reads
        # the CTDC mapping; the SDMX structure and the GLOTIP questionnaire's layout are
        # checked against the table sets they cut.
        from opennrm.statistics import engine, extracts, glotip_questionnaire, sdmx  # noqa: F401

        engine.table_sets()
        engine.population_figures()
        sdmx.load_structure()
        glotip_questionnaire.load_layout()
