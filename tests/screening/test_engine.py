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
    result = score(ADULT, observed(dimension, strong, medium, weak), age=30)
    assert (dimension in result.present) is present
    assert result.present == ([dimension] if present else [])


def test_an_adult_with_recruitment_exploitation_and_means_is_a_probable_victim():
    assert score(ADULT, RECRUITED | EXPLOITED | COERCED, age=30).outcome == PROBABLE


def test_an_adult_without_means_is_not_probable():
    result = score(ADULT, RECRUITED | EXPLOITED, age=30)
    assert result.outcome == POSSIBLE
    assert result.missing_groups == (DIMENSIONS[4:],)


def test_a_child_without_means_is_probable():
    assert score(ADULT, RECRUITED | EXPLOITED, age=15).outcome == PROBABLE
    assert score(make_indicator_set("child"), RECRUITED | EXPLOITED, age=15).outcome == PROBABLE


def test_a_person_of_uncertain_age_is_screened_as_a_child():
    result = score(ADULT, RECRUITED | EXPLOITED, age=None, age_uncertain=True)
    assert result.treated_as_child and result.outcome == PROBABLE
    assert not score(ADULT, RECRUITED | EXPLOITED, age=None).treated_as_child


def test_a_strong_indicator_alone_makes_a_possible_victim():
    assert score(ADULT, observed("coercion_at_destination", strong=1), age=30).outcome == POSSIBLE


def test_nothing_observed_or_below_every_threshold_is_not_met():
    assert score(ADULT, set(), age=30).outcome == NOT_MET
    below = observed("deceptive_recruitment", medium=1, weak=3) | observed(
        "exploitative_conditions", medium=2)
    assert score(ADULT, below, age=30).outcome == NOT_MET


def test_an_unknown_indicator_is_refused():
    with pytest.raises(engine.UnknownIndicator):
        score(ADULT, {"no_such_indicator"})


def test_the_explanation_spells_out_the_reasons():
    lines = engine.explain(score(ADULT, RECRUITED | EXPLOITED, age=30), ADULT)
    assert lines[0] == "Possible victim — gather more information"
    assert "Coercive recruitment: present — 2 strong (strong sign 0; strong sign 1)" in lines
    assert ("Exploitative conditions: present — 1 strong (strong sign 0) + 1 medium "
            "(medium sign 0)") in lines
    assert "Deceptive recruitment: not present — no indicator observed" in lines
    assert lines[-1].startswith("Missing for a probable victim: one of Coercion at destination")


def test_the_explanation_speaks_the_users_language():
    lines = engine.explain(score(ADULT, RECRUITED | EXPLOITED, age=12), ADULT, "uk")
    assert lines[0] == "Імовірно постраждала особа — перенаправте"
    assert lines[1].startswith("Оцінено як дитину")


observations = st.sets(st.sampled_from(ALL_INDICATORS))
ages = st.one_of(st.none(), st.integers(min_value=0, max_value=90))


@given(observations, st.sampled_from(ALL_INDICATORS), ages, st.booleans())
def test_adding_an_observed_indicator_never_lowers_the_outcome(seen, extra, age, uncertain):
    before = score(ADULT, seen, age, uncertain).outcome
    after = score(ADULT, seen | {extra}, age, uncertain).outcome
    assert engine.OUTCOME_ORDER.index(after) >= engine.OUTCOME_ORDER.index(before)


@given(st.lists(st.sampled_from(ALL_INDICATORS), unique=True), st.randoms(), ages)
def test_the_order_of_ticking_does_not_matter(ticked, random, age):
    shuffled = list(ticked)
    random.shuffle(shuffled)
    assert score(ADULT, ticked, age) == score(ADULT, shuffled, age)
