"""The ILO/EC decision rule as a pure function: no Django, no database.

An indicator set (one versioned data file in `indicators/`) lists dimensions, each with
indicators of strength strong, medium or weak, the age group it is for (`population`) and
the rule parameters (`rule`):

* `dimension_present`: alternatives of minimum counts — a dimension is present when the
  observed indicators of that dimension meet any one of them (≥2 strong; 1 strong + ≥1
  medium or weak; ≥3 medium; 2 medium + ≥1 weak);
* `probable_victim`: groups of dimensions — the person is a probable victim when every
  group has at least one dimension present. The adults' lists need recruitment,
  exploitation and coercion or abuse of vulnerability at destination; the children's lists
  leave the means out (recruitment and exploitation suffice).

The rule is the list's: the engine applies the list it is given, and knows no rule of its
own. Which list fits the person (a person who may be a child is screened with a children's
list, Council of Europe Convention Art. 10(3)) is decided before, in `screening.services`.
The outcome is *probable* (refer), *possible* (gather more information: a dimension is
present or a strong indicator was seen) or *not met*. A screening never decides formal
identification: an authority does.
"""

from dataclasses import dataclass, field
from functools import cached_property

STRENGTHS = ("strong", "medium", "weak")
PROBABLE, POSSIBLE, NOT_MET = "probable", "possible", "not_met"
# Outcomes from least to most serious: adding an observation never moves down this order.
OUTCOME_ORDER = (NOT_MET, POSSIBLE, PROBABLE)
ADULT, CHILD = "adult", "child"


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

    @property
    def age_group(self) -> str:
        """The age group the list and its rule are for: "adult" or "child"."""
        return self.data["population"]

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


def dimension_present(counts: dict[str, int], alternatives: list[dict]) -> bool:
    medium_or_weak = counts["medium"] + counts["weak"]
    for minimum in alternatives:
        if (counts["strong"] >= minimum.get("strong", 0)
                and counts["medium"] >= minimum.get("medium", 0)
                and counts["weak"] >= minimum.get("weak", 0)
                and medium_or_weak >= minimum.get("medium_or_weak", 0)):
            return True
    return False


def score(indicator_set: IndicatorSet, observed, *, means_required: bool | None = None
          ) -> Result:
    """Apply the decision rule of `indicator_set` to the observed indicator codes.

    `means_required=False` is for explaining screenings recorded before the rule belonged
    to the list (OpenNRM before 2009.2 of the ILO/EC files), when a person of uncertain age
    or under 18 was scored without the means whatever list was used: the groups made only
    of destination dimensions (coercion or abuse of vulnerability at destination) are then
    left out of the list's rule. New screenings never pass it.
    """
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
    groups = tuple(map(tuple, rule["probable_victim"]))
    child = indicator_set.age_group == CHILD
    if means_required is False and not child:
        # The schema fixes each dimension's group: these two are the destination's.
        destination = {"coercion_at_destination", "abuse_of_vulnerability_at_destination"}
        groups = tuple(group for group in groups if not set(group) <= destination)
        child = True
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
           "child": "Screened with a list for children: the means are not required.",
           "child_legacy": "Screened as a child (under 18 or age uncertain): the means are "
                           "not required.",
           "override": "The list is for another age group than the person's: screened "
                       "with it for the reason recorded.",
           "missing": "Missing for a probable victim: one of"},
    "ro": {"strong": "puternic", "medium": "mediu", "weak": "slab",
           "present": "prezentă", "absent": "absentă", "none": "niciun indicator observat",
           PROBABLE: "Victimă probabilă — referiți",
           POSSIBLE: "Victimă posibilă — colectați mai multe informații",
           NOT_MET: "Indicatorii nu sunt întruniți",
           "child": "Evaluat cu o listă pentru copii: mijloacele nu sunt necesare.",
           "child_legacy": "Evaluat ca și copil (sub 18 ani sau vârstă incertă): mijloacele "
                           "nu sunt necesare.",
           "override": "Lista este pentru altă grupă de vârstă decât a persoanei: "
                       "evaluat cu ea pentru motivul înregistrat.",
           "missing": "Lipsește pentru o victimă probabilă: una dintre"},
    "uk": {"strong": "сильний", "medium": "середній", "weak": "слабкий",
           "present": "наявний", "absent": "відсутній", "none": "індикаторів не виявлено",
           PROBABLE: "Імовірно постраждала особа — перенаправте",
           POSSIBLE: "Можливо постраждала особа — зберіть більше інформації",
           NOT_MET: "Індикатори не виявлено в достатній мірі",
           "child": "Оцінено за переліком для дітей: засоби не потрібні.",
           "child_legacy": "Оцінено як дитину (до 18 років або вік не встановлено): засоби "
                           "не потрібні.",
           "override": "Перелік призначений для іншої вікової групи, ніж особа: оцінено "
                       "за ним із зазначеної причини.",
           "missing": "Бракує для імовірно постраждалої особи: один із"},
    "ru": {"strong": "сильный", "medium": "средний", "weak": "слабый",
           "present": "присутствует", "absent": "отсутствует",
           "none": "индикаторы не выявлены",
           PROBABLE: "Вероятная жертва — перенаправьте",
           POSSIBLE: "Возможная жертва — соберите больше информации",
           NOT_MET: "Индикаторы не выявлены в достаточной мере",
           "child": "Оценено по перечню для детей: средства не требуются.",
           "child_legacy": "Оценивается как ребёнок (до 18 лет или возраст не установлен): "
                           "средства не требуются.",
           "override": "Перечень предназначен для другой возрастной группы, чем лицо: "
                       "оценено по нему по указанной причине.",
           "missing": "Не хватает для вероятной жертвы: одно из"},
}


def explain(result: Result, indicator_set: IndicatorSet, language: str = "en",
            overridden: bool = False) -> list[str]:
    """The outcome and its reasons, one line each, e.g.
    "Coercive recruitment: present — 1 strong (Violence on victims) + 1 medium
    (Confiscation of documents)". `overridden`: the list was used for a person of the
    other age group, with a recorded reason."""
    words = PHRASES.get(language, PHRASES["en"])
    dimensions = {dimension["code"]: dimension for dimension in indicator_set.data["dimensions"]}
    indicator_labels = {indicator["code"]: indicator_set.label(indicator, language)
                        for dimension in indicator_set.data["dimensions"]
                        for indicator in dimension["indicators"]}
    lines = [words[result.outcome]]
    if result.treated_as_child:
        lines.append(words["child" if indicator_set.age_group == CHILD else "child_legacy"])
    if overridden:
        lines.append(words["override"])
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
