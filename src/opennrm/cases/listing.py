"""The case list: filters and sort orders over the cases a user may see.

Filters arrive as a validated dict (see `forms.CaseFilterForm`); every query starts from
`access.cases_visible_to`, so a filter can narrow what a user sees but never widen it.
"""

from datetime import timedelta

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from opennrm.cases import access
from opennrm.cases.models import Case, CaseStatus, Consent

# "Open" in the filters and the home page's lists.
OPEN_STATUSES = (CaseStatus.ACTIVE, CaseStatus.FOLLOW_UP)
# A case registered or assigned within this many days counts as new.
NEW_CASE_DAYS = 14

# Sort key shown in the URL → columns (newest first on ties, so pages are stable).
SORTS = {
    "registered": ("registered_at", "id"),
    "first_contact": ("first_contact_on", "id"),
    "case_number": ("case_number",),
    "status": ("status", "registered_at", "id"),
}
DEFAULT_SORT = "-registered"
# What a row of the case list shows (see templatetags `case_table_rows`); the owning agency
# and the person let `labels.attach_name_labels` add the name label.
ROW_COLUMNS = ("case_number", "status", "victim_status", "is_child", "age_band",
               "exploitation_forms", "first_contact_on", "registered_at", "owner_agency",
               "person")


def order_by(sort: str) -> tuple[str, ...]:
    descending = sort.startswith("-")
    columns = SORTS.get(sort.lstrip("-")) or SORTS[DEFAULT_SORT.lstrip("-")]
    return tuple(f"-{column}" if descending else column for column in columns)


def with_exploitation_form(cases: QuerySet[Case], form: str) -> QuerySet[Case]:
    """Cases whose list of forms of exploitation contains `form` (a code)."""
    if connection.vendor == "postgresql":
        return cases.filter(exploitation_forms__contains=[form])
    # SQLite has no JSON containment; the codes are plain words, so match the quoted code.
    return cases.filter(exploitation_forms__icontains=f'"{form}"')


def without_active_consent(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Cases where the person has no consent in force (none given, or all withdrawn)."""
    active = Consent.objects.in_force().filter(case=OuterRef("pk"))
    return cases.filter(~Exists(active))


def filtered_cases(user, filters: dict) -> QuerySet[Case]:
    cases = access.cases_visible_to(user)
    if filters.get("q"):
        cases = cases.filter(case_number__icontains=filters["q"])
    status = filters.get("status")
    if status == "open":
        cases = cases.filter(status__in=OPEN_STATUSES)
    elif status in CaseStatus.values:
        cases = cases.filter(status=status)
    if filters.get("victim_status"):
        cases = cases.filter(victim_status=filters["victim_status"])
    if filters.get("age_band") == "child":
        cases = cases.filter(is_child=True)
    elif filters.get("age_band"):
        cases = cases.filter(age_band=filters["age_band"])
    if filters.get("exploitation_form"):
        cases = with_exploitation_form(cases, filters["exploitation_form"])
    if filters.get("first_contact_from"):
        cases = cases.filter(first_contact_on__gte=filters["first_contact_from"])
    if filters.get("first_contact_to"):
        cases = cases.filter(first_contact_on__lte=filters["first_contact_to"])
    if filters.get("assigned") == "me":
        cases = cases.filter(assigned_to=user)
    elif filters.get("assigned") == "nobody":
        cases = cases.filter(assigned_to__isnull=True)
    if filters.get("consent") == "missing":
        cases = without_active_consent(cases)
    if filters.get("registered") == "recent":
        since = timezone.now() - timedelta(days=NEW_CASE_DAYS)
        cases = cases.filter(registered_at__gte=since)
    return cases.order_by(*order_by(filters.get("sort") or DEFAULT_SORT))
