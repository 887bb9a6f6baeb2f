from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "opennrm.cases"
