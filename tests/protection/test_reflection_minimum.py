"""How "at least 30 days" is counted, and the start-up warning for a lower setting."""

from datetime import date, timedelta

import pytest
from django.core.checks import Warning, run_checks
from django.core.exceptions import ValidationError

from opennrm.protection import services
from opennrm.protection.checks import reflection_period_minimum


def test_the_end_is_at_least_the_start_plus_the_minimum(caseworker, case):
    # starts_on and ends_on are the first and the last day of the period. The last day is
    # at least starts_on + 30 days: 3 March → 2 April, which is 31 calendar days counting
    # both, or 30 days after the first day. One day earlier is refused.
    start = date(2026, 3, 3)
    with pytest.raises(ValidationError, match="end it on 2026-04-02 or later"):
        services.grant_reflection_period(caseworker, case, start, start + timedelta(days=29),
                                         start, deciding_authority="Police")
    period = services.grant_reflection_period(caseworker, case, start,
                                              start + timedelta(days=30), start,
                                              deciding_authority="Police")
    assert period.ends_on == date(2026, 4, 2)
    assert (period.ends_on - period.starts_on).days == 30


def test_a_minimum_below_thirty_is_reported_at_start_up(settings):
    settings.OPENNRM_REFLECTION_PERIOD_MIN_DAYS = 14
    warnings = reflection_period_minimum()
    assert [w.id for w in warnings] == ["opennrm.protection.W001"]
    assert isinstance(warnings[0], Warning)
    assert "14" in warnings[0].msg and "30" in warnings[0].msg
    # Registered: `manage.py check` (and so every start) shows it.
    assert "opennrm.protection.W001" in {m.id for m in run_checks()}
    assert services.minimum_reflection_days() == 30


@pytest.mark.parametrize("days", [30, 45])
def test_thirty_or_more_says_nothing(settings, days):
    settings.OPENNRM_REFLECTION_PERIOD_MIN_DAYS = days
    assert reflection_period_minimum() == []
    assert "opennrm.protection.W001" not in {m.id for m in run_checks()}
