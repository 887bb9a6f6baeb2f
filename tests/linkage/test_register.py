"""Deduplicating and linking registers: one person per cluster, unreadable records
reported, quality figures right."""

import pytest

from opennrm.linkage.register import (
    PairQuality,
    RegisterError,
    dedupe,
    link,
    load_model,
    pair_quality,
    parse_mapping,
    read_register,
)

SHEVCHENKO = [
    {"record_id": "h1", "given_name": "Олександр", "family_name": "Шевченко",
     "birth_date": "03.05.1990", "sex": "ч", "citizenship": "UA", "truth": "oleksandr"},
    {"record_id": "p1", "given_name": "Oleksandr", "family_name": "Shevchenko",
     "birth_date": "1990-05-03", "sex": "M", "citizenship": "UKR", "truth": "oleksandr"},
    # The Russian spelling, day and month swapped.
    {"record_id": "s1", "given_name": "Александр", "family_name": "Шевченко",
     "birth_date": "05.03.1990", "sex": "M", "truth": "oleksandr"},
    # His sister and his mother: the same family name, not the same person.
    {"record_id": "h2", "given_name": "Ірина", "family_name": "Шевченко",
     "birth_date": "1993-11-20", "sex": "F", "citizenship": "UA", "truth": "iryna"},
    {"record_id": "p2", "given_name": "Ганна", "family_name": "Shevchenko",
     "birth_date": "1965", "sex": "F", "citizenship": "UA", "truth": "hanna"},
    {"record_id": "h3", "given_name": "Ștefan", "family_name": "Țurcanu",
     "birth_date": "12.11.1979", "sex": "M", "citizenship": "MD", "truth": "stefan"},
    {"record_id": "p3", "given_name": "Stefan", "family_name": "Turcanu",
     "birth_date": "1979-11", "sex": "M", "citizenship": "Moldova", "truth": "stefan"},
]


def _together(result, *ids, source=""):
    return len({result.clusters[(source, record_id)] for record_id in ids}) == 1


def test_latin_and_cyrillic_records_of_one_person_are_one_cluster():
    result = dedupe(SHEVCHENKO)
    assert _together(result, "h1", "p1", "s1")
    assert _together(result, "h3", "p3")


def test_people_sharing_a_family_name_stay_apart():
    result = dedupe(SHEVCHENKO)
    clusters = {result.clusters[("", record_id)] for record_id in ("h1", "h2", "p2")}
    assert len(clusters) == 3


def test_every_readable_record_gets_a_cluster_and_pairs_carry_probabilities():
    result = dedupe(SHEVCHENKO)
    assert set(result.clusters) == {("", record["record_id"]) for record in SHEVCHENKO}
    assert len(set(result.clusters.values())) == 4
    pair = next(p for p in result.pairs if {p.record_id_1, p.record_id_2} == {"h1", "p1"})
    assert pair.match_probability > 0.99
    assert all(p.match_probability >= load_model()["pairs_written_from"] for p in result.pairs)


def test_unreadable_records_are_reported_with_line_and_reason_never_dropped_silently():
    records = [*SHEVCHENKO,
               {"record_id": "x1", "line": 9, "given_name": "Maria", "birth_date": "31.02.1990"},
               {"record_id": "", "line": 10, "given_name": "Ion"},
               {"record_id": "h1", "line": 11, "given_name": "Petru"},
               {"record_id": "x2", "line": 12, "birth_date": "1990"}]
    result = dedupe(records)
    reported = {(item.line, item.record_id): item.reason for item in result.unreadable}
    assert "not a date of the calendar" in reported[(9, "x1")]
    assert reported[(10, "")] == "no record id"
    assert "earlier record" in reported[(11, "h1")]
    assert "no name" in reported[(12, "x2")]
    assert len(result.clusters) + len(result.unreadable) == len(records)


def test_truth_metrics_on_a_hand_checked_example():
    # Clusters {a1, a2, b1} and {a3}; truth a = {a1, a2, a3}, b = {b1}.
    # Predicted pairs: a1-a2 (true), a1-b1, a2-b1 (false). True pairs: a1-a2, a1-a3, a2-a3.
    clusters = {("", "a1"): "C1", ("", "a2"): "C1", ("", "b1"): "C1", ("", "a3"): "C2"}
    truth = {("", "a1"): "a", ("", "a2"): "a", ("", "a3"): "a", ("", "b1"): "b"}
    quality = pair_quality(clusters, truth)
    assert quality == PairQuality(true_positives=1, false_positives=2, false_negatives=2)
    assert quality.precision == pytest.approx(1 / 3)
    assert quality.recall == pytest.approx(1 / 3)
    assert quality.f1 == pytest.approx(1 / 3)


def test_link_truth_counts_only_pairs_across_the_registers():
    # One cluster with l1, l2 (left) and r1 (right), all person p: the left-left pair does
    # not count in a link; the two cross pairs are found.
    clusters = {("L", "l1"): "C1", ("L", "l2"): "C1", ("R", "r1"): "C1", ("R", "r2"): "C2"}
    truth = {("L", "l1"): "p", ("L", "l2"): "p", ("R", "r1"): "p", ("R", "r2"): "q"}
    assert pair_quality(clusters, truth, across_sources=True) == PairQuality(2, 0, 0)


def test_dedupe_reports_quality_against_the_truth_it_was_given():
    quality = dedupe(SHEVCHENKO).quality()
    assert (quality.precision, quality.recall, quality.f1) == (1.0, 1.0, 1.0)


def test_link_shares_cluster_ids_across_two_registers():
    left = [r for r in SHEVCHENKO if r["record_id"].startswith("h")]
    right = [r for r in SHEVCHENKO if not r["record_id"].startswith("h")]
    result = link(left, right, sources=("hotline", "police"))
    assert result.clusters[("hotline", "h1")] == result.clusters[("police", "p1")] \
        == result.clusters[("police", "s1")]
    assert result.clusters[("hotline", "h3")] == result.clusters[("police", "p3")]
    assert result.clusters[("hotline", "h2")] != result.clusters[("police", "p2")]
    assert all(p.source_1 == "hotline" and p.source_2 == "police" for p in result.pairs)
    assert result.quality().f1 == 1.0


def test_a_higher_threshold_never_joins_more():
    loose, strict = dedupe(SHEVCHENKO, threshold=0.5), dedupe(SHEVCHENKO, threshold=0.999999)
    assert len(set(strict.clusters.values())) >= len(set(loose.clusters.values()))
    with pytest.raises(RegisterError, match="threshold"):
        dedupe(SHEVCHENKO, threshold=1.5)


def test_the_model_file_is_versioned_data():
    model = load_model()
    assert isinstance(model["version"], int) and 0 < model["threshold"] < 1
    outputs = {c["output_column_name"] for c in model["splink"]["comparisons"]}
    assert outputs == {"given_name", "family_name", "birth_date", "sex", "citizenship",
                       "place_of_birth", "phone", "document_number"}


def test_reading_a_csv_keeps_line_numbers_and_refuses_unknown_columns(tmp_path):
    path = tmp_path / "register.csv"
    path.write_text('id;first;last\n1;Ana;"Pop\nescu"\n2;Ion;Rusu\n', encoding="utf-8")
    records = read_register(path, "id", parse_mapping("given_name=first,family_name=last"))
    assert [(r["record_id"], r["line"]) for r in records] == [("1", 2), ("2", 4)]
    with pytest.raises(RegisterError, match="no column 'surname'"):
        read_register(path, "id", {"family_name": "surname"})
    with pytest.raises(RegisterError, match="no such file"):
        read_register(tmp_path / "missing.csv", "id", {"family_name": "last"})
    with pytest.raises(RegisterError, match="not a field"):
        parse_mapping("name=first")


def test_a_generated_register_is_deduplicated_with_f1_of_at_least_0_95():
    synthetic = pytest.importorskip("opennrm.linkage.synthetic")
    rows = synthetic.generate_register(persons=1000, seed=1)
    result = dedupe(rows)
    assert result.trained and not result.unreadable
    assert result.quality().f1 >= 0.95


def test_twins_stay_apart_and_a_day_off_is_the_same_person():
    # Twins share the family name, birth date and place of birth: only the given name
    # differs. A day off (across a month's end) is the same person.
    common = {"family_name": "Popescu", "sex": "M", "citizenship": "MD",
              "place_of_birth": "Chișinău"}
    records = [
        {"record_id": "t1", "given_name": "Andrei", "birth_date": "1995-04-30", **common,
         "truth": "andrei"},
        {"record_id": "t2", "given_name": "Victor", "birth_date": "30.04.1995", **common,
         "truth": "victor"},
        {"record_id": "t3", "given_name": "Andrei", "birth_date": "1995-05-01", **common,
         "truth": "andrei"},
        {"record_id": "n1", "given_name": "Ion", "family_name": "Rusu", "birth_date": "1988-03-14",
         "place_of_birth": "Bălți", "citizenship": "MD", "truth": "ion"},
        {"record_id": "n2", "given_name": "Ion", "family_name": "Rusu", "birth_date": "14.03.1988",
         "place_of_birth": "Balti", "citizenship": "MD", "truth": "ion"},
        {"record_id": "n3", "given_name": "Maria", "family_name": "Ciobanu",
         "birth_date": "1990-07-02", "citizenship": "MD", "truth": "maria"},
    ]
    result = dedupe(records)
    assert _together(result, "t1", "t3")
    assert not _together(result, "t1", "t2")
    assert _together(result, "n1", "n2")


def test_unreadable_records_are_listed_in_file_order_with_every_reason():
    records = [
        {"record_id": "a", "line": 2, "given_name": "Ana", "birth_date": "1990", "sex": "q",
         "citizenship": "Atlantis"},
        {"record_id": "b", "line": 3, "given_name": "Ion", "family_name": "Rusu"},
        {"record_id": "", "line": 4, "given_name": "Ion"},
        {"record_id": "c", "line": 5, "family_name": "Rusu", "phone": "12-34"},
    ]
    result = dedupe(records)
    assert [item.line for item in result.unreadable] == [2, 4, 5]
    first = result.unreadable[0].reason
    assert first.index("sex:") < first.index("citizenship:") and "birth_date" not in first
    assert result.unreadable[2].reason.startswith("phone:")


def test_a_phone_number_without_its_prefix_is_read_in_the_persons_country():
    person = {"given_name": "Olena", "family_name": "Bondar", "birth_date": "1991-02-03",
              "sex": "F"}
    records = [
        {"record_id": "ua", **person, "citizenship": "UA", "phone": "067 123 45 67"},
        {"record_id": "intl", **person, "phone": "+380 67 123 4567"},
        {"record_id": "md", **person, "citizenship": "MD", "phone": "067 123 45 67"},
    ]
    levels = {frozenset((pair.record_id_1, pair.record_id_2)):
              {field.comparison: field.level for field in pair.fields}["phone"]
              for pair in dedupe(records, explain=True).pairs}
    assert levels[frozenset(("ua", "intl"))] == "same number"
    assert levels[frozenset(("ua", "md"))] == "same last seven digits"
