"""The ILO/EC decision rule, dimension by dimension and as a whole (no database)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opennrm.screening import engine
from opennrm.screening.engine import NOT_MET, POSSIBLE, PROBABLE, score
from tests.factories import (
    COERCED,
    DIMENSIONS,
    EXPLOITED,
    RECRUITED,
    make_indicator_set,
    observed,
)

ADULT = make_indicator_set()
ALL_INDICATORS = sorted(ADULT.indicators)


@pytest.mark.parametrize(("strong", "medium", "weak", "present"), [
    (2, 0, 0, True),    # 2 strong
    (1, 1, 0, True),    # 1 strong + 1 medium
    (1, 0, 1, True),    # 1 strong + 1 weak
    (0, 3, 0, True),    # 3 medium
    (0, 2, 1, True),    # 2 medium + 1 weak
    (0, 2, 0, False),   # 2 medium alone
    (1, 0, 0, False),   # 1 strong alone
    (0, 1, 2, False),   # 1 medium + 2 weak
    (0, 0, 3, False),   # weak indicators alone
    (0, 0, 0, False),
])
@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_when_a_dimension_is_present(dimension, strong, medium, weak, present):
    result = score(ADULT, observed(dimension, strong, medium, weak))
    assert (dimension in result.present) is present
    assert result.present == ([dimension] if present else [])


def test_an_adult_with_recruitment_exploitation_and_means_is_a_probable_victim():
    assert score(ADULT, RECRUITED | EXPLOITED | COERCED).outcome == PROBABLE


def test_an_adult_without_means_is_not_probable():
    result = score(ADULT, RECRUITED | EXPLOITED)
    assert result.outcome == POSSIBLE
    assert result.missing_groups == (DIMENSIONS[4:],)


CHILD = make_indicator_set("child")


def test_the_rule_is_the_lists_own():
    """The children's list needs no means, the adults' list does: whoever is screened
    (which list fits the person is `screening.services`' business)."""
    assert score(CHILD, RECRUITED | EXPLOITED).outcome == PROBABLE
    assert score(CHILD, RECRUITED | EXPLOITED).treated_as_child
    assert score(ADULT, RECRUITED | EXPLOITED).outcome == POSSIBLE
    assert not score(ADULT, RECRUITED | EXPLOITED).treated_as_child


def test_a_list_with_a_rule_of_its_own_needs_no_code():
    data = {**CHILD.data, "id": "md-child-begging",
            "rule": {**CHILD.data["rule"], "probable_victim": [["exploitative_conditions"]]}}
    assert score(engine.IndicatorSet(data), EXPLOITED).outcome == PROBABLE


def test_screenings_recorded_under_the_old_child_override_are_scored_as_then():
    """Before the rule belonged to the list, a child screened with the adults' list was
    scored without the means: their explanation still says so."""
    result = score(ADULT, RECRUITED | EXPLOITED, means_required=False)
    assert result.outcome == PROBABLE and result.treated_as_child
    assert engine.explain(result, ADULT)[1] == engine.PHRASES["en"]["child_legacy"]


def test_a_strong_indicator_alone_makes_a_possible_victim():
    assert score(ADULT, observed("coercion_at_destination", strong=1)).outcome == POSSIBLE


def test_nothing_observed_or_below_every_threshold_is_not_met():
    assert score(ADULT, set()).outcome == NOT_MET
    below = observed("deceptive_recruitment", medium=1, weak=3) | observed(
        "exploitative_conditions", medium=2)
    assert score(ADULT, below).outcome == NOT_MET


def test_an_unknown_indicator_is_refused():
    with pytest.raises(engine.UnknownIndicator):
        score(ADULT, {"no_such_indicator"})


def test_the_explanation_spells_out_the_reasons():
    lines = engine.explain(score(ADULT, RECRUITED | EXPLOITED), ADULT)
    assert lines[0] == "Possible victim — gather more information"
    assert "Coercive recruitment: present — 2 strong (strong sign 0; strong sign 1)" in lines
    assert ("Exploitative conditions: present — 1 strong (strong sign 0) + 1 medium "
            "(medium sign 0)") in lines
    assert "Deceptive recruitment: not present — no indicator observed" in lines
    assert lines[-1].startswith("Missing for a probable victim: one of Coercion at destination")


def test_the_explanation_speaks_the_users_language():
    lines = engine.explain(score(CHILD, RECRUITED | EXPLOITED), CHILD, "uk")
    assert lines[0] == "Імовірно постраждала особа — перенаправте"
    assert lines[1].startswith("Оцінено за переліком для дітей")


def test_the_explanation_says_when_the_list_is_for_another_age_group():
    lines = engine.explain(score(CHILD, RECRUITED), CHILD, overridden=True)
    assert engine.PHRASES["en"]["override"] in lines


observations = st.sets(st.sampled_from(ALL_INDICATORS))
lists = st.sampled_from([ADULT, CHILD])


@given(observations, st.sampled_from(ALL_INDICATORS), lists)
def test_adding_an_observed_indicator_never_lowers_the_outcome(seen, extra, indicator_set):
    before = score(indicator_set, seen).outcome
    after = score(indicator_set, seen | {extra}).outcome
    assert engine.OUTCOME_ORDER.index(after) >= engine.OUTCOME_ORDER.index(before)


@given(st.lists(st.sampled_from(ALL_INDICATORS), unique=True), st.randoms(), lists)
def test_the_order_of_ticking_does_not_matter(ticked, random, indicator_set):
    shuffled = list(ticked)
    random.shuffle(shuffled)
    assert score(indicator_set, ticked) == score(indicator_set, shuffled)
