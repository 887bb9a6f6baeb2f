"""The main menu's entries for apps above `cases` (whose own tag library, `opennrm`, may not
import them): the service directory and statistics."""

from django import template

from opennrm.services.access import can_read_directory
from opennrm.statistics.access import can_view_statistics

register = template.Library()


@register.filter
def may_read_directory(user) -> bool:
    """The user may open the service directory."""
    return can_read_directory(user)


@register.filter
def may_view_statistics(user) -> bool:
    return can_view_statistics(user)
