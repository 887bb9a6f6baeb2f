"""Generated persons spread over the nodes of a test network, with the truth of who is who:
for the real-node test and the benchmark of linkage across nodes.

One register is generated (`synthetic.generate_register`, the same for a seed on every node)
and each person's registrations go to distinct countries, at most one per country: a person
registered twice is known in two countries, three times in three. Each node keeps its own
share only.
"""

import random
from collections import defaultdict
from collections.abc import Sequence

from opennrm.linkage.synthetic import expected_records_per_person, generate_register

DUPLICATED = 0.4  # persons registered in two or more countries


def network_register(persons: int, seed: int, countries: Sequence[str],
                     duplicated: float = DUPLICATED) -> dict[str, list[dict]]:
    """{country: its records} of `persons` generated persons."""
    rows = generate_register(persons, seed, duplicated=duplicated)
    by_person: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_person[row["person_id"]].append(row)
    rng = random.Random(f"opennrm-crossborder/{seed}")
    spread: dict[str, list[dict]] = {country: [] for country in countries}
    for person_id in sorted(by_person):
        records = by_person[person_id][:len(countries)]
        for row, country in zip(records, rng.sample(list(countries), len(records)),
                                strict=True):
            spread[country].append(row)
    return spread


def persons_for(records_per_node: int, countries: Sequence[str],
                duplicated: float = DUPLICATED) -> int:
    """How many persons to generate for about `records_per_node` records on each node."""
    return max(1, round(records_per_node * len(countries)
                        / expected_records_per_person(duplicated=duplicated)))


def known_elsewhere(spread: dict[str, list[dict]]) -> dict[str, dict[str, set[str]]]:
    """The truth: {country: {person id: the other countries that know the person}}."""
    countries_of: dict[str, set[str]] = defaultdict(set)
    for country, rows in spread.items():
        for row in rows:
            countries_of[row["person_id"]].add(country)
    return {country: {row["person_id"]: countries_of[row["person_id"]] - {country}
                      for row in rows} for country, rows in spread.items()}
