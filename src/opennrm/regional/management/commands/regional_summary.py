"""Print the regional view's figures for a table set and period as JSON (what the page shows
at its top): the countries in view, those apart, the national totals, the duplicates removed
by group of countries and the regional total."""

import json

from django.core.management.base import BaseCommand, CommandError

from opennrm.regional.overview import build_overview
from opennrm.statistics.periods import PeriodError, parse_period


class Command(BaseCommand):
    help = __doc__.split("\n\n")[0]

    def add_arguments(self, parser):
        parser.add_argument("--table-set", default="eurostat")
        parser.add_argument("--period", required=True)

    def handle(self, *args, table_set, period, **options):
        try:
            start, end = parse_period(period)
        except PeriodError as error:
            raise CommandError(str(error)) from error
        overview = build_overview(table_set, start, end)
        dedupe = overview.deduplication
        self.stdout.write(json.dumps({
            "countries": [c.country for c in overview.countries],
            "apart": {c.country: c.differences for c in overview.apart},
            "national": dedupe.national_totals,
            "sum": dedupe.sum_of_national_totals,
            "groups": {"+".join(sorted(g.countries)): g.persons for g in dedupe.groups},
            "removed": dedupe.removed,
            "could_not_be_removed": dedupe.could_not_be_removed,
            "regional": dedupe.regional_total,
        }))
