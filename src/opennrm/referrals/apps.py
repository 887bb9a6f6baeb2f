from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "opennrm.referrals"
    verbose_name = "Referrals and assistance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Importing the services connects the receivers that stop referrals when their
        # consent is withdrawn and hand them to a transferred case's new owner.
        from opennrm.cases import access as case_access
        from opennrm.cases.consent_effects import register_withdrawal_effect
        from opennrm.cases.sections import register_case_section
        from opennrm.referrals import services  # noqa: F401
        from opennrm.referrals.access import (
            case_shared_for_same_person_link,
            cases_referred_for_identification,
            cases_shared_for_same_person_links,
        )
        from opennrm.referrals.deadlines import (
            external_referrals_to_follow_up,
            unanswered_referrals,
        )
        from opennrm.referrals.views import referral_context
        from opennrm.reminders.deadlines import register_deadline_source

        register_case_section("referrals", referral_context, 20, relations=("referrals",))
        register_withdrawal_effect(services.referrals_stopped_by_withdrawal)
        register_deadline_source("referral_unanswered", unanswered_referrals, 10)
        register_deadline_source("referral_follow_up", external_referrals_to_follow_up, 11)
        case_access.register_identification_grant(cases_referred_for_identification)
        case_access.register_same_person_link_grant(case_shared_for_same_person_link)
        case_access.register_same_person_candidates_grant(cases_shared_for_same_person_links)
