"""The roles a user of the node holds. Kept in core so that every app's access rules can
name them without importing accounts; `opennrm.accounts.models.Role` is the same class."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    # Translators: a social worker who handles the cases (files) of trafficked persons.
    CASEWORKER = "caseworker", _("Frontline caseworker")
    SUPERVISOR = "supervisor", _("Supervisor")
    # Translators: NRM = National Referral Mechanism for trafficked persons.
    NATIONAL_COORDINATOR = "national_coordinator", _("National coordinator (NRM focal point)")
    ANALYST = "analyst", _("Analyst (aggregates only)")
    # Reads the partners' statistics releases side by side (aggregates only), on a node or on
    # a regional hub.
    REGIONAL_ANALYST = "regional_analyst", _("Regional analyst (partners' aggregates only)")
    AUDITOR = "auditor", _("Auditor (audit trail only)")
    ADMINISTRATOR = "administrator", _("Administrator (users and agencies)")
