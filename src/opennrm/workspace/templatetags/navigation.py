"""The main menu's entries for apps above `cases` (whose own tag library, `opennrm`, may not
import them): the service directory, statistics, the transnational pages, the criminal
cases and the review of possible duplicates."""

from django import template

from opennrm.justice.access import works_on_criminal_cases
from opennrm.linkage.access import may_review_linkage as _may_review_linkage
from opennrm.linkage.crossborder.access import can_manage_agreements, can_run_rounds
from opennrm.regional.access import can_view_regional
from opennrm.services.access import can_read_directory
from opennrm.statistics.access import can_view_statistics
from opennrm.transnational.access import can_manage_partners, is_focal_point

register = template.Library()


@register.filter
def may_read_directory(user) -> bool:
    """The user may open the service directory."""
    return can_read_directory(user)


@register.filter
def may_view_statistics(user) -> bool:
    return can_view_statistics(user)


@register.filter
def may_manage_partners(user) -> bool:
    """The administrator's pages of the transnational channel (node, partners, messages)."""
    return can_manage_partners(user)


@register.filter
def may_see_transnational_referrals(user) -> bool:
    """The national focal point's inbox of offers from partner nodes."""
    return is_focal_point(user)


@register.filter
def may_work_on_criminal_cases(user) -> bool:
    """An investigator, prosecutor or their supervisor, of a police or prosecution agency."""
    return works_on_criminal_cases(user)


@register.filter
def may_review_linkage(user) -> bool:
    """The national coordinator and supervisors review the possible duplicates."""
    return _may_review_linkage(user)


@register.filter
def may_view_regional(user) -> bool:
    """The regional analyst and the national coordinator: partners' releases side by side."""
    return can_view_regional(user)


@register.filter
def may_use_cross_border_linkage(user) -> bool:
    """Linkage agreements (administrators, national coordinators) and rounds (national
    coordinators)."""
    return can_manage_agreements(user) or can_run_rounds(user)
