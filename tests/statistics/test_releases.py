"""Releases: disclosure control before anything is shown, immutability, reproducibility and
the privacy budget."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied

from opennrm.cases import services as case_services
from opennrm.statistics import releases
from opennrm.statistics.models import PrivacyBudgetSpend, Release
from opennrm.statistics.tables import NOISY, SUPPRESSED
from tests.factories import person_data

YEAR = (date(2025, 1, 1), date(2025, 12, 31))


def all_cells(table):
    yield from (cell for row in table.cells for cell in row)
    yield from table.row_totals
    yield from table.column_totals
    yield table.total


def test_the_preview_never_shows_a_count_below_the_threshold(analyst_user):
    result = releases.preview(analyst_user, "eurostat", *YEAR)
    for table in result.tables:
        for cell in all_cells(table):
            assert cell.value is None or cell.value == 0 or cell.value >= 5
    victims = result.tables[0]
    # The dataset has 5 victims: the total is shown, the small cells are not.
    assert victims.total.value == 5
    flags = {cell.flag for cell in all_cells(victims)}
    assert SUPPRESSED in flags


def test_a_caseworker_sees_no_statistics(dataset):
    with pytest.raises(PermissionDenied):
        releases.preview(dataset["ngo_worker"], "eurostat", *YEAR)
    with pytest.raises(PermissionDenied):
        releases.publish_release(dataset["ngo_worker"], "eurostat", *YEAR, releases.Controls())


def test_a_published_release_is_immutable_and_reproducible(analyst_user, dataset,
                                                            lenient_policy):
    release = releases.publish_release(analyst_user, "glotip", *YEAR,
                                       releases.Controls(threshold=3))
    assert release.inputs["rows"]["cases"] == 7  # 2025 cases, Costel's two included
    with pytest.raises(RuntimeError):
        release.title = "changed"
        release.save()
    with pytest.raises(RuntimeError):
        release.delete()
    # Later corrections of the data do not change what the release was computed from.
    case_services.register_case(dataset["ngo_worker"],
                                person_data(first_contact_on=date(2025, 11, 1)))
    check = releases.verify_release(Release.objects.get(pk=release.pk))
    assert check.inputs_match and check.tables_match and check.published_match
    assert releases.preview(analyst_user, "glotip", *YEAR).tables[0].total.value == 6


def test_a_tampered_release_fails_its_check(analyst_user):
    release = releases.publish_release(analyst_user, "eurostat", *YEAR, releases.Controls())
    Release.objects.filter(pk=release.pk).update(exact_digest="0" * 64)
    assert not releases.verify_release(Release.objects.get(pk=release.pk)).ok


def test_differential_privacy_spends_the_budget_and_is_refused_beyond_it(analyst_user,
                                                                          settings,
                                                                          lenient_policy):
    settings.OPENNRM_DP_BUDGET = 1.0
    first = releases.publish_release(analyst_user, "eurostat", *YEAR,
                                     releases.Controls(threshold=1, epsilon=0.6))
    assert first.epsilon_spent == 0.6
    assert releases.epsilon_spent("eurostat", *YEAR) == pytest.approx(0.6)
    tables = releases.release_result(first).tables
    assert tables and all(cell.flag == NOISY or cell.value is None
                          for t in tables for cell in all_cells(t))
    # An overlapping period shares the budget: 0.6 + 0.5 > 1.0.
    with pytest.raises(releases.ReleaseError, match="budget"):
        releases.publish_release(analyst_user, "eurostat", date(2025, 1, 1),
                                 date(2025, 3, 31), releases.Controls(epsilon=0.5))
    assert Release.objects.count() == 1
    assert PrivacyBudgetSpend.objects.count() == 1
    # Another table set has a budget of its own.
    releases.publish_release(analyst_user, "ctdc", *YEAR, releases.Controls(epsilon=0.5))


def test_a_dp_release_leaves_out_tables_without_a_bounded_contribution(analyst_user):
    release = releases.publish_release(analyst_user, "nrm", *YEAR,
                                       releases.Controls(epsilon=0.5))
    result = releases.release_result(release)
    keys = {t.key for t in result.tables}
    assert "referrals_by_service_and_outcome" not in keys  # counts referrals
    assert "days_to_referral" not in keys  # an indicator
    assert "returns_by_risk_assessment" in keys
    assert any("Left out" in note for note in result.notes)


@pytest.mark.parametrize("controls", [{"threshold": 0}, {"rounding": -1}, {"epsilon": 0}])
def test_wrong_controls_are_refused(controls):
    with pytest.raises(releases.ReleaseError):
        releases.Controls(**controls)


def test_rounding_rounds_every_published_count(analyst_user, lenient_policy):
    result = releases.preview(analyst_user, "eurostat", *YEAR,
                              releases.Controls(threshold=1, rounding=5))
    for table in result.tables:
        for cell in all_cells(table):
            assert cell.value is None or cell.value % 5 == 0
