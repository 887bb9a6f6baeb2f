from django.apps import AppConfig


class TransnationalConfig(AppConfig):
    name = "opennrm.transnational"
    verbose_name = "Transnational referral mechanism"

    def ready(self) -> None:
        # The channel's own message types (ping, pong), then the referral workflows' handlers,
        # the consent withdrawal receiver and the case page's transnational section.
        from opennrm.cases.consent_effects import register_withdrawal_effect
        from opennrm.cases.sections import register_case_section
        from opennrm.cases.signals import consent_withdrawn
        from opennrm.transnational import (
            handlers,  # noqa: F401
            keys,
            workflows,
        )
        from opennrm.transnational.views import case_section_context

        workflows.register()
        keys.register()  # key rotation and revocation announced by partners (keys.py)
        consent_withdrawn.connect(workflows.on_consent_withdrawn,
                                  dispatch_uid="transnational_consent_withdrawn")
        register_withdrawal_effect(workflows.recipients_told_by_withdrawal)
        register_case_section("transnational", case_section_context, 45,
                              relations=("transnational_referrals",))
        # Partners as witnesses: audit checkpoints sent to them, theirs kept (witness.py).
        from opennrm.transnational import witness

        witness.register()
