"""Fill a TEST node with generated persons for the regional tests and benchmark: every node of
the network runs it with the same seed and country list, and keeps its own share
(`regional.testdata`): one case per person first contacted in the period, and the "also
known in" marks written directly, as a cross-border linkage round would leave them. Never
run it on a node that holds real data."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from opennrm.regional import testdata
from opennrm.statistics.periods import PeriodError, parse_period


class Command(BaseCommand):
    help = __doc__.split("\n\n")[0]

    def add_arguments(self, parser):
        parser.add_argument("--country", required=True, help="this node's country")
        parser.add_argument("--countries", required=True,
                            help="every country of the test network, comma-separated")
        parser.add_argument("--persons", type=int, required=True,
                            help="persons generated for the whole network")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--duplicated", type=float, default=0.3)
        parser.add_argument("--period", default="2025")
        parser.add_argument("--truth", type=Path, help="write the independent count here")

    def handle(self, *args, country, countries, persons, seed, duplicated, period, truth,
               **options):
        countries = [code.strip().upper() for code in countries.split(",") if code.strip()]
        country = country.upper()
        if country not in countries:
            raise CommandError(f"{country} is not among {', '.join(countries)}")
        try:
            start, end = parse_period(period)
        except PeriodError as error:
            raise CommandError(str(error)) from error
        people = testdata.network_persons(persons, seed, countries, duplicated)
        written = testdata.seed_node(country, people, seed, start, end)
        if truth:
            Path(truth).write_text(json.dumps(testdata.truth(people, countries)),
                                   encoding="utf-8")
        self.stdout.write(f"{written} persons created in {country}")
