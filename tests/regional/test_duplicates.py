"""The arithmetic of counting each person once across countries (`regional.duplicates`),
checked against an independent count of generated persons whose countries are known."""

import pytest

from opennrm.regional import duplicates, testdata
from opennrm.regional.duplicates import ControlledCount, NationalFigures

COUNTRIES = ("MD", "RO", "UA", "BG", "GE")


def national_figures(people, countries, threshold=1, counted=None):
    """What each country's release would say of `people`: its total and its counts by set of
    other countries, controlled at `threshold`. `counted(person, country)` says whether the
    country counted the person in the period (all by default)."""
    counted = counted or (lambda person, country: True)
    figures = []
    for country in countries:
        mine = {p["person"]: set(p["countries"]) - {country} for p in people
                if country in p["countries"] and counted(p, country)}
        exact = duplicates.counts_by_country_set(mine)
        figures.append(NationalFigures(
            country, len(mine), threshold,
            tuple(duplicates.control_counts(exact, threshold=threshold))))
    return figures


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("in_view", [COUNTRIES[:2], COUNTRIES[:3], COUNTRIES])
def test_regional_total_counts_each_generated_person_once(seed, in_view):
    people = testdata.network_persons(2000, seed, COUNTRIES, duplicated=0.35)
    truth = testdata.truth(people, in_view)
    result = duplicates.deduplicate(national_figures(people, in_view))
    assert result.sum_of_national_totals == truth["sum"]
    assert result.removed == truth["duplicates_removed"]
    assert result.regional_total == truth["regional"]
    assert result.could_not_be_removed == 0


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_suppressed_counts_are_not_removed_and_the_most_they_hide_is_said(seed):
    # Few persons over five countries: many sets hold fewer than 5 and are suppressed.
    people = testdata.network_persons(150, seed, COUNTRIES, duplicated=0.4)
    truth = testdata.truth(people, COUNTRIES)
    exact = duplicates.deduplicate(national_figures(people, COUNTRIES))
    controlled = duplicates.deduplicate(national_figures(people, COUNTRIES, threshold=5))
    assert controlled.removed < exact.removed  # something was hidden
    assert controlled.regional_total >= truth["regional"]
    assert controlled.regional_total - controlled.could_not_be_removed <= truth["regional"]


def test_a_person_outside_one_countrys_period_is_not_removed():
    people = [{"person": n, "countries": ["MD", "UA"]} for n in range(20)]
    # UA registered the first 6 of them outside the period: it counts only 14.
    figures = national_figures(people, ["MD", "UA"],
                               counted=lambda p, c: not (c == "UA" and p["person"] < 6))
    result = duplicates.deduplicate(figures)
    assert result.national_totals == {"MD": 20, "UA": 14}
    assert result.removed == 14  # the 14 both counted; the other 6 were counted once anyway
    assert result.regional_total == 20


def test_sets_are_cut_to_the_countries_in_view():
    # 10 persons known in MD, UA and GE; GE sent no release: in view they span MD+UA only.
    people = [{"person": n, "countries": ["GE", "MD", "UA"]} for n in range(10)]
    figures = [f for f in national_figures(people, ["GE", "MD", "UA"]) if f.country != "GE"]
    result = duplicates.deduplicate(figures)
    assert [(sorted(g.countries), g.persons) for g in result.groups] == [(["MD", "UA"], 10)]
    assert result.regional_total == 10


def test_a_group_of_three_is_removed_twice():
    figures = [NationalFigures("MD", 30, 5, (ControlledCount(frozenset({"RO", "UA"}), 7),)),
               NationalFigures("RO", 40, 5, (ControlledCount(frozenset({"MD", "UA"}), 7),)),
               NationalFigures("UA", 50, 5, (ControlledCount(frozenset({"MD", "RO"}), 9),))]
    result = duplicates.deduplicate(figures)
    assert result.removed == 2 * 7
    assert result.regional_total == 120 - 14


def test_controls_hide_small_counts_and_send_no_zero():
    exact = {frozenset({"UA"}): 12, frozenset({"RO"}): 3, frozenset({"RO", "UA"}): 0}
    controlled = duplicates.control_counts(exact, threshold=5)
    assert [c.to_dict() for c in controlled] == [
        {"countries": ["RO"], "value": None, "flag": "suppressed"},
        {"countries": ["UA"], "value": 12, "flag": ""}]
    rounded = duplicates.control_counts(exact, threshold=5, rounding=5)
    assert rounded[-1].value in (10, 15) and rounded[-1].flag == "rounded"


def test_noise_covers_every_set_of_the_domain():
    class Plus:  # a stand-in mechanism: adds 6 to every count
        def release(self, count):
            return count + 6

    controlled = duplicates.control_counts(
        {frozenset({"UA"}): 1}, threshold=5, noise=Plus(),
        domain=duplicates.all_country_sets(["RO", "UA"]))
    assert {duplicates.set_key(c.countries): c.value for c in controlled} == {
        "RO": 6, "UA": 7, "RO+UA": 6}
