"""Start-up checks of the protection settings (Django system checks, run by `manage.py
check`, `migrate`, `runserver` and `opennrm run`)."""

from django.conf import settings
from django.core.checks import Warning, register

from opennrm.protection.services.reflection_period import CONVENTION_MINIMUM_DAYS


@register()
def reflection_period_minimum(app_configs=None, **kwargs) -> list[Warning]:
    """OPENNRM_REFLECTION_PERIOD_MIN_DAYS below the Convention's 30 days is not applied:
    say so, rather than enforce 30 in silence."""
    days = getattr(settings, "OPENNRM_REFLECTION_PERIOD_MIN_DAYS", CONVENTION_MINIMUM_DAYS)
    if int(days) >= CONVENTION_MINIMUM_DAYS:
        return []
    return [Warning(
        f"OPENNRM_REFLECTION_PERIOD_MIN_DAYS is {days}, below the {CONVENTION_MINIMUM_DAYS} "
        f"days of CETS 197 art. 13(1): reflection periods must last at least "
        f"{CONVENTION_MINIMUM_DAYS} days all the same.",
        hint=f"Set OPENNRM_REFLECTION_PERIOD_MIN_DAYS to {CONVENTION_MINIMUM_DAYS} or more "
             f"(docs/protection.md).",
        id="opennrm.protection.W001",
    )]
