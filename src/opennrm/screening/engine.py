"""The ILO/EC decision rule as a pure function: no Django, no database.

An indicator set (one versioned data file in `indicators/`) lists dimensions, each with
indicators of strength strong, medium or weak, and the rule parameters:

* `dimension_present`: alternatives of minimum counts — a dimension is present when the
  observed indicators of that dimension meet any one of them (≥2 strong; 1 strong + ≥1
  medium or weak; ≥3 medium; 2 medium + ≥1 weak);
* `probable_victim`: groups of dimensions — the person is a probable victim when every
  group has at least one dimension present. Adults need recruitment, exploitation and
  coercion or abuse of vulnerability at destination; for a child the means are not required
  (recruitment and exploitation suffice).

A person of uncertain age is screened as a child (Council of Europe Convention, Art. 10(3)):
whatever list was used, the child rule then applies. The outcome is *probable* (refer),
*possible* (gather more information: a dimension is present or a strong indicator was
seen) or *not met*. A screening never decides formal identification: an authority does.
"""

from dataclasses import dataclass, field
from functools import cached_property

STRENGTHS = ("strong", "medium", "weak")
PROBABLE, POSSIBLE, NOT_MET = "probable", "possible", "not_met"
# Outcomes from least to most serious: adding an observation never moves down this order.
OUTCOME_ORDER = (NOT_MET, POSSIBLE, PROBABLE)
CHILD_RULE = (("deceptive_recruitment", "coercive_recruitment",
               "recruitment_abuse_of_vulnerability"), ("exploitative_conditions",))
ADULT_AGE = 18


class UnknownIndicator(ValueError):
    """An observed indicator that is not in the indicator set."""


@dataclass(frozen=True)
class IndicatorSet:
    """One version of one list, as loaded from its data file."""

    data: dict

    @property
    def key(self) -> tuple[str, str]:
        return self.data["id"], self.data["version"]

    @cached_property
    def indicators(self) -> dict[str, tuple[str, str]]:
        """Indicator code → (dimension code, strength)."""
        return {indicator["code"]: (dimension["code"], indicator["strength"])
                for dimension in self.data["dimensions"]
                for indicator in dimension["indicators"]}

    def label(self, item: dict, language: str) -> str:
        return item["labels"].get(language) or item["labels"]["en"]


@dataclass(frozen=True)
class DimensionFinding:
    code: str
    present: bool
    # strength → observed indicator codes of this dimension, in the order of the list
    observed: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def count(self, strength: str) -> int:
        return len(self.observed.get(strength, ()))


@dataclass(frozen=True)
class Result:
    indicator_set: tuple[str, str]
    treated_as_child: bool
    outcome: str
    dimensions: tuple[DimensionFinding, ...]
    # Groups of the probable-victim rule with no dimension present (empty when probable).
    missing_groups: tuple[tuple[str, ...], ...]

    @property
    def present(self) -> list[str]:
        return [finding.code for finding in self.dimensions if finding.present]


def is_child(age: int | None, age_uncertain: bool) -> bool:
    """Under 18, or of uncertain age: screened as a child (CoE Convention Art. 10(3))."""
    return age_uncertain or (age is not None and age < ADULT_AGE)


def dimension_present(counts: dict[str, int], alternatives: list[dict]) -> bool:
    medium_or_weak = counts["medium"] + counts["weak"]
    for minimum in alternatives:
        if (counts["strong"] >= minimum.get("strong", 0)
                and counts["medium"] >= minimum.get("medium", 0)
                and counts["weak"] >= minimum.get("weak", 0)
                and medium_or_weak >= minimum.get("medium_or_weak", 0)):
            return True
    return False


def score(indicator_set: IndicatorSet, observed, age: int | None = None,
          age_uncertain: bool = False) -> Result:
    """Apply the decision rule of `indicator_set` to the observed indicator codes."""
    observed = set(observed)
    unknown = observed - indicator_set.indicators.keys()
    if unknown:
        raise UnknownIndicator(f"not in {indicator_set.key}: {', '.join(sorted(unknown))}")
    rule = indicator_set.data["rule"]
    findings = []
    for dimension in indicator_set.data["dimensions"]:
        seen = {strength: tuple(indicator["code"] for indicator in dimension["indicators"]
                                if indicator["strength"] == strength
                                and indicator["code"] in observed)
                for strength in STRENGTHS}
        counts = {strength: len(codes) for strength, codes in seen.items()}
        findings.append(DimensionFinding(
            dimension["code"], dimension_present(counts, rule["dimension_present"]),
            {strength: codes for strength, codes in seen.items() if codes}))
    child = is_child(age, age_uncertain)
    groups = CHILD_RULE if child else tuple(map(tuple, rule["probable_victim"]))
    present = {finding.code for finding in findings if finding.present}
    missing = tuple(group for group in groups if not present & set(group))
    any_strong = any(indicator_set.indicators[code][1] == "strong" for code in observed)
    if not missing:
        outcome = PROBABLE
    elif present or any_strong:
        outcome = POSSIBLE
    else:
        outcome = NOT_MET
    return Result(indicator_set.key, child, outcome, tuple(findings), missing)


# --- explanation ---------------------------------------------------------------------------

PHRASES = {
    "en": {"strong": "strong", "medium": "medium", "weak": "weak",
           "present": "present", "absent": "not present", "none": "no indicator observed",
           PROBABLE: "Probable victim — refer",
           POSSIBLE: "Possible victim — gather more information",
           NOT_MET: "Indicators not met",
           "child": "Screened as a child (under 18 or age uncertain): the means are not "
                    "required.",
           "missing": "Missing for a probable victim: one of"},
    "ro": {"strong": "puternic", "medium": "mediu", "weak": "slab",
           "present": "prezentă", "absent": "absentă", "none": "niciun indicator observat",
           PROBABLE: "Victimă probabilă — referiți",
           POSSIBLE: "Victimă posibilă — colectați mai multe informații",
           NOT_MET: "Indicatorii nu sunt întruniți",
           "child": "Evaluat ca și copil (sub 18 ani sau vârstă incertă): mijloacele nu "
                    "sunt necesare.",
           "missing": "Lipsește pentru o victimă probabilă: una dintre"},
    "uk": {"strong": "сильний", "medium": "середній", "weak": "слабкий",
           "present": "наявний", "absent": "відсутній", "none": "індикаторів не виявлено",
           PROBABLE: "Імовірно постраждала особа — перенаправте",
           POSSIBLE: "Можливо постраждала особа — зберіть більше інформації",
           NOT_MET: "Індикатори не виявлено в достатній мірі",
           "child": "Оцінено як дитину (до 18 років або вік не встановлено): засоби не "
                    "потрібні.",
           "missing": "Бракує для імовірно постраждалої особи: один із"},
    "ru": {"strong": "сильный", "medium": "средний", "weak": "слабый",
           "present": "присутствует", "absent": "отсутствует",
           "none": "индикаторы не выявлены",
           PROBABLE: "Вероятная жертва — перенаправьте",
           POSSIBLE: "Возможная жертва — соберите больше информации",
           NOT_MET: "Индикаторы не выявлены в достаточной мере",
           "child": "Оценивается как ребёнок (до 18 лет или возраст не установлен): средства "
                    "не требуются.",
           "missing": "Не хватает для вероятной жертвы: одно из"},
}


def explain(result: Result, indicator_set: IndicatorSet, language: str = "en") -> list[str]:
    """The outcome and its reasons, one line each, e.g.
    "Coercive recruitment: present — 1 strong (Violence on victims) + 1 medium
    (Confiscation of documents)"."""
    words = PHRASES.get(language, PHRASES["en"])
    dimensions = {dimension["code"]: dimension for dimension in indicator_set.data["dimensions"]}
    indicator_labels = {indicator["code"]: indicator_set.label(indicator, language)
                        for dimension in indicator_set.data["dimensions"]
                        for indicator in dimension["indicators"]}
    lines = [words[result.outcome]]
    if result.treated_as_child:
        lines.append(words["child"])
    for finding in result.dimensions:
        name = indicator_set.label(dimensions[finding.code], language)
        parts = [f"{finding.count(strength)} {words[strength]} ("
                 + "; ".join(indicator_labels[code] for code in finding.observed[strength])
                 + ")" for strength in STRENGTHS if finding.count(strength)]
        state = words["present"] if finding.present else words["absent"]
        lines.append(f"{name}: {state} — {' + '.join(parts) if parts else words['none']}")
    for group in result.missing_groups:
        names = ", ".join(indicator_set.label(dimensions[code], language) for code in group)
        lines.append(f"{words['missing']} {names}")
    return lines
