from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    """The pages that compose several apps: the home page, its worklists and deadlines, and
    the case's timeline. It sits above the domain apps and imports their read functions;
    no app imports it."""

    name = "opennrm.workspace"
    verbose_name = "Workspace"
