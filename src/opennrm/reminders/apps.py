from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "opennrm.reminders"
    verbose_name = "Deadlines and reminders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the receiver that queues the e-mail job when notifications are stored.
        from opennrm.cases import signals
        from opennrm.reminders import case_notices, tasks  # noqa: F401

        # A case assigned or transferred: the people concerned are told.
        signals.case_assigned.connect(case_notices.on_case_assigned,
                                      dispatch_uid="reminders-case-assigned")
        signals.transfer_changed.connect(case_notices.on_transfer_changed,
                                         dispatch_uid="reminders-transfer-changed")
