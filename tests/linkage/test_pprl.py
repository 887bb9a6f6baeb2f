"""Privacy-preserving record linkage: encodings meet across scripts without a name in them,
the payload carries nothing but ids and bits, and linkage quality stays that of clear text."""

import json
import random
import time
from collections import defaultdict

import numpy as np
import pytest

from opennrm.linkage import pprl, pprl_kernel, synthetic
from opennrm.linkage.register import dedupe, pair_quality

SECRET = b"agreed-out-of-band-by-partners"
TODAY = synthetic.REFERENCE
PARTIES = ("md", "ua", "ro")


def person(record_id, given, family, born="1990-05-03", sex="F", **more):
    return {"record_id": record_id, "given_name": given, "family_name": family,
            "birth_date": born, "sex": sex, **more}


def encoded(records, secret=SECRET, **parameters):
    chosen = pprl.EncodingParameters(**parameters) if parameters else pprl.DEFAULT_PARAMETERS
    encodings, unreadable = pprl.encode(records, secret, chosen, today=TODAY)
    assert not unreadable
    return encodings


def dice(left, right):
    common = np.bitwise_count(left & right).sum()
    return 2 * common / (np.bitwise_count(left).sum() + np.bitwise_count(right).sum())


def split_across_countries(persons: int, seed: int) -> dict[str, list[dict]]:
    """A generated register shared among three countries: each holds a person at most once
    (its own register deduplicated), so a person registered two to four times appears in
    two or three of them."""
    records = defaultdict(list)
    for row in synthetic.generate_register(persons, seed):
        records[row["person_id"]].append(row)
    rng = random.Random(seed)
    parties = {name: [] for name in PARTIES}
    for rows in records.values():
        first = rng.randrange(len(PARTIES))
        for number, row in enumerate(rows[:len(PARTIES)]):
            parties[PARTIES[(first + number) % len(PARTIES)]].append(row)
    return parties


def test_it_links_a_cyrillic_and_a_latin_spelling_of_one_person():
    encodings = encoded([person("a", "Олександр", "Мельник"), person("b", "Oleksandr", "Melnyk"),
                         person("c", "Ольга", "Мельник")])
    same = dice(encodings.filters[0], encodings.filters[1])
    sister = dice(encodings.filters[0], encodings.filters[2])
    assert same >= pprl.DEFAULT_PARAMETERS.threshold > sister


def test_it_keeps_twins_apart():
    encodings = encoded([person("a", "Ion", "Popescu", place_of_birth="Cahul"),
                         person("b", "Vasile", "Popescu", place_of_birth="Cahul")])
    assert dice(*encodings.filters) < pprl.DEFAULT_PARAMETERS.threshold


def test_a_swapped_birth_date_outscores_a_namesake_born_on_another_day():
    """The whole birth date is a feature of its own: a namesake born on another day loses
    it, a record with day and month swapped keeps the year and the day-month."""
    parties = {"md": encoded([person("m1", "Angelina", "Iraklieva", born="2003-03-09",
                                     citizenship="RU")]),
               "ro": encoded([person("r1", "Ангелина", "Ираклиева", born="1987-11-21",
                                     citizenship="RU"),
                              person("r2", "Ангелина", "Ираклиева", born="2003-09-03",
                                     citizenship="RU")])}
    namesake, swapped = (dice(parties["md"].filters[0], other)
                         for other in parties["ro"].filters)
    assert namesake < swapped
    assert swapped >= pprl.DEFAULT_PARAMETERS.threshold
    result = pprl.link_encodings(parties)
    assert result.groups["md"]["m1"] == result.groups["ro"]["r2"] != result.groups["ro"]["r1"]


def test_the_payload_holds_only_ids_bits_and_the_version():
    records = [person("rec-1", "Анастасія", "Шевченко", citizenship="UA", place_of_birth="Київ",
                      document_number="FA123456"),
               person("rec-2", "Anastasiia", "Shevchenko", born="03.05.1990")]
    payload = encoded(records).to_payload()
    assert set(payload) == {"parameters_version", "record_ids", "filter_bits", "filters"}
    text = json.dumps(payload).lower()
    for clear in ("анаст", "anast", "shevch", "1990", "05-03", "kyiv", "fa123456", "ua"):
        assert clear not in text.replace(payload["filters"].lower(), "")
    assert payload["record_ids"] == ["rec-1", "rec-2"]


def test_the_payload_comes_back_whole():
    encodings = encoded([person(f"r{number}", "Ion", "Rusu", born=f"19{60 + number}")
                         for number in range(5)])
    again = pprl.Encodings.from_payload(json.loads(json.dumps(encodings.to_payload())))
    assert again.record_ids == encodings.record_ids
    assert np.array_equal(again.filters, encodings.filters)
    assert again.parameters_version == pprl.DEFAULT_PARAMETERS.version


@pytest.mark.parametrize(("change", "message"), [
    (lambda p: p.pop("filters"), "lacks filters"),
    (lambda p: p.update(extra=1), "unknown keys extra"),
    (lambda p: p.update(filters="not base64!"), "not base64"),
    (lambda p: p.update(filters=p["filters"][:-12]), "need"),
    (lambda p: p.update(filter_bits=1000), "multiple of 64"),
    (lambda p: p.update(record_ids=["a", "a"]), "more than once"),
    (lambda p: p.update(record_ids=["a", 2]), "non-empty strings"),
    (lambda p: p.update(parameters_version=""), "parameters_version"),
    (lambda p: p.update(block_keys=["x", "y"]), "block_keys"),
])
def test_a_bad_payload_is_refused_with_its_reason(change, message):
    payload = encoded([person("a", "Ion", "Rusu"), person("b", "Ana", "Rusu")]).to_payload()
    change(payload)
    with pytest.raises(pprl.PPRLError, match=message):
        pprl.Encodings.from_payload(payload)


def test_chunks_join_into_the_encodings_sent():
    encodings = encoded([person(f"r{number}", "Ion", "Rusu", born=f"19{60 + number}")
                         for number in range(7)])
    parts = encodings.chunks(3)
    assert [len(part) for part in parts] == [3, 3, 1]
    joined = pprl.Encodings.join([pprl.Encodings.from_payload(part.to_payload())
                                  for part in parts])
    assert joined.record_ids == encodings.record_ids
    assert np.array_equal(joined.filters, encodings.filters)


def test_unreadable_records_are_reported_not_dropped():
    records = [person("ok", "Ion", "Rusu"), person("", "Ion", "Rusu"),
               person("date", "Ion", "Rusu", born="31.02.1990"), person("ok", "Ana", "Rusu"),
               person("noname", "", "")]
    encodings, unreadable = pprl.encode(records, SECRET, today=TODAY)
    assert encodings.record_ids == ["ok"]
    reasons = {entry.record_id: entry.reason for entry in unreadable}
    assert set(reasons) == {"", "date", "ok", "noname"}
    assert "not a date of the calendar" in reasons["date"]
    assert "earlier record" in reasons["ok"]


def test_partners_with_another_secret_do_not_link():
    ours = encoded([person("a", "Ion", "Rusu")])
    theirs = encoded([person("b", "Ion", "Rusu")], secret=b"some-other-secret-entirely")
    same_secret = encoded([person("b", "Ion", "Rusu")])
    assert dice(ours.filters[0], same_secret.filters[0]) == 1.0
    result = pprl.link_encodings({"md": ours, "ua": theirs})
    assert result.links == 0


def test_group_ids_are_shared_across_partners_and_new_every_run():
    parties = {"md": encoded([person("m1", "Сергей", "Жуков"), person("m2", "Ana", "Rusu")]),
               "ro": encoded([person("r1", "Serghei", "Jucov"), person("r2", "Ion", "Bivol")])}
    first = pprl.link_encodings(parties)
    second = pprl.link_encodings(parties)
    assert first.groups["md"]["m1"] == first.groups["ro"]["r1"]
    assert len({first.groups["md"]["m2"], first.groups["ro"]["r2"],
                first.groups["md"]["m1"]}) == 3
    assert first.groups["md"]["m1"] != second.groups["md"]["m1"]
    assert (first.comparisons, first.links) == (4, 1)


def test_each_record_links_to_one_record_of_a_partner():
    parties = {"md": encoded([person("m1", "Ion", "Rusu")]),
               "ro": encoded([person("r1", "Ion", "Rusu"), person("r2", "Ion", "Rusu", sex="")])}
    result = pprl.link_encodings(parties)
    assert result.candidate_pairs == 2 and result.links == 1
    assert result.groups["md"]["m1"] == result.groups["ro"]["r1"]  # the better of the two


def test_linking_refuses_encodings_of_other_parameters():
    other = pprl.EncodingParameters(version="opennrm-pprl-test", qgram=3)
    parties = {"md": encoded([person("a", "Ion", "Rusu")]),
               "ro": encoded([person("b", "Ion", "Rusu")], version="opennrm-pprl-test", qgram=3)}
    with pytest.raises(pprl.PPRLError, match="ro: encoded with parameters"):
        pprl.link_encodings(parties)
    assert pprl.EncodingParameters.from_dict(json.loads(other.to_json())) == other


@pytest.mark.parametrize("data", [{"output_bits": 1000}, {"threshold": 1.5},
                                  {"bits_per_feature": {"shoe_size": 3}}, {"colour": "red"}])
def test_bad_parameters_are_refused(data):
    with pytest.raises(pprl.PPRLError, match="encoding parameters"):
        pprl.EncodingParameters.from_dict(data)


def test_the_compiled_kernel_gives_the_numpy_results():
    rng = np.random.default_rng(5)
    left = rng.integers(0, 2**63, (300, 16), dtype=np.uint64)
    right = np.concatenate([left[:50] ^ (left[:50] & rng.integers(0, 2**63, (50, 16),
                                                                  dtype=np.uint64) >> 3),
                            rng.integers(0, 2**63, (200, 16), dtype=np.uint64)])
    found = pprl.dice_scores(left, right, 0.6, threads=2)
    expected = pprl_kernel._dice_numpy(left, right, pprl_kernel.popcounts(left),
                                       pprl_kernel.popcounts(right), 0.6, 0, len(left))
    assert len(found[0]) >= 50
    assert sorted(zip(*(part.tolist() for part in found), strict=True)) == sorted(
        zip(*(part.tolist() for part in expected), strict=True))


def test_linkage_quality_is_that_of_clear_text():
    parties = split_across_countries(1500, seed=11)
    truth = {(name, row["record_id"]): row["person_id"]
             for name, rows in parties.items() for row in rows}
    started = time.perf_counter()
    encodings = {name: encoded(rows) for name, rows in parties.items()}
    result = pprl.link_encodings(encodings)
    seconds = time.perf_counter() - started
    groups = {(name, record_id): group for name, records in result.groups.items()
              for record_id, group in records.items()}
    private = pair_quality(groups, truth, across_sources=True)

    party_of = {row["record_id"]: name for name, rows in parties.items() for row in rows}
    clear = dedupe([row for rows in parties.values() for row in rows], today=TODAY)
    clusters = {(party_of[record_id], record_id): cluster
                for (_, record_id), cluster in clear.clusters.items()}
    clear_quality = pair_quality(clusters, truth, across_sources=True)
    print(f"\nF1 of cross-party pairs: PPRL {private.f1:.4f} (precision {private.precision:.4f},"
          f" recall {private.recall:.4f}, {seconds:.1f} s); clear text {clear_quality.f1:.4f} "
          f"(precision {clear_quality.precision:.4f}, recall {clear_quality.recall:.4f})")
    assert private.true_positives > 200
    assert private.f1 >= clear_quality.f1 - 0.02
