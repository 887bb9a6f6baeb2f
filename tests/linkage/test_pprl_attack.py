"""The frequency attack on Bloom-filter encodings (Kuzu et al. 2011; Christen et al. 2017,
2018): an attacker who holds encodings and knows how often names occur in the population
aligns the most frequent encodings (bit patterns) with the most frequent names.

It breaks an unhardened Bloom filter of one field (the family name alone): identical names
give identical filters, and their frequencies give them away. On the node's encodings it does
no better than guessing the most common name for everyone: every encoding combines the name
with the birth date and the other fields, so patterns do not repeat, and the diffusion layer
leaves no bit whose frequency follows a q-gram. docs/pprl.md says what this does not show
(graph matching, pattern mining across many bits)."""

import random
from collections import Counter

import numpy as np

from opennrm.linkage import pprl, synthetic

SECRET = b"agreed-out-of-band-by-partners"
TODAY = synthetic.REFERENCE


def zipf_names(count: int, names: list[str], rng: random.Random) -> list[str]:
    """`count` family names drawn with the frequencies of real surnames (Zipf: the name of
    rank r is drawn in proportion to 1/r; the generator's pools are uniform, which no
    population is)."""
    return rng.choices(names, weights=[1 / rank for rank in range(1, len(names) + 1)], k=count)


def population_and_target():
    """The attacker's population (names only, from another generated register) and the
    node's records: one record per person, family names of the same Zipf ranking."""
    names = sorted({row["family_name"] for row in synthetic.generate_register(800, seed=1)
                    if row["family_name"] and not row["variants"]})
    random.Random(2).shuffle(names)
    target = [dict(row) for row in synthetic.generate_register(3000, seed=21)
              if not row["variants"]]
    for row, name in zip(target, zipf_names(len(target), names, random.Random(3)), strict=True):
        row["family_name"] = name
    population = [row["family_name"] for row in synthetic.generate_register(6000, seed=22)]
    population = zipf_names(len(population), names, random.Random(4))
    return Counter(population), target


def frequency_alignment(filters: np.ndarray, population: Counter) -> list[str | None]:
    """The attack: the i-th most frequent bit pattern is taken for the i-th most frequent
    name; a record's guess is the name its pattern was aligned with (None past the end)."""
    patterns = [row.tobytes() for row in np.asarray(filters)]
    ranked = [pattern for pattern, _ in Counter(patterns).most_common()]
    names = [name for name, _ in population.most_common()]
    guess = dict(zip(ranked, names, strict=False))
    return [guess.get(pattern) for pattern in patterns]


def success(guesses, records) -> float:
    return sum(guess == row["family_name"] for guess, row in zip(guesses, records,
                                                                  strict=True)) / len(records)


def test_it_reidentifies_an_unhardened_family_name_filter_and_not_the_nodes_encodings():
    population, target = population_and_target()
    ids, rows, unreadable = pprl.normalise_records(target, TODAY)
    assert not unreadable
    # Chance: every record guessed to bear the population's most common name.
    chance = success([population.most_common(1)[0][0]] * len(target), target)

    field_only = pprl.EncodingParameters(version="family-name-only",
                                         bits_per_feature={"family_name": 28})
    unhardened = pprl.inner_filters(rows, SECRET, field_only)
    baseline = success(frequency_alignment(np.packbits(unhardened, axis=1), population), target)

    encodings, _ = pprl.encode(target, SECRET, today=TODAY)
    hardened = success(frequency_alignment(encodings.filters, population), target)
    print(f"\nrecords re-identified by frequency alignment: unhardened family-name filter "
          f"{baseline:.3f}, node's encodings {hardened:.3f}, chance {chance:.3f}")
    assert baseline >= max(0.3, 2 * chance)
    assert hardened <= chance + 0.01


def test_no_bit_of_the_nodes_encodings_follows_a_frequent_qgram():
    """What bit-frequency attacks feed on: in an unhardened filter the bits of frequent
    q-grams are set far more often than others; after the diffusion layer every bit is set
    in 40 to 60 % of the records."""
    _, target = population_and_target()
    _, rows, _ = pprl.normalise_records(target, TODAY)
    inner = pprl.inner_filters(rows, SECRET).mean(axis=0)
    encodings, _ = pprl.encode(target, SECRET, today=TODAY)
    bits = np.unpackbits(encodings.filters.view(np.uint8), axis=1).mean(axis=0)
    print(f"\nbit frequencies: unhardened {inner.min():.3f}–{inner.max():.3f}, "
          f"hardened {bits.min():.3f}–{bits.max():.3f}")
    assert inner.max() - inner.min() > 0.5
    assert np.abs(bits - 0.5).max() < 0.1
