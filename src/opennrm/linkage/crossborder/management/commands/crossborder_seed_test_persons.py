"""Fill a TEST node with generated persons for linkage across nodes (the real-node test and
the benchmark): every node of the network runs it with the same seed and country list, and
keeps its own share (`testdata.network_register`). Persons only, written in bulk (encrypted
as the ORM writes them), without cases: never run it on a node that holds real data."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from opennrm.cases.models import Person
from opennrm.linkage.crossborder.testdata import DUPLICATED, network_register
from opennrm.linkage.normalise import UnreadableValue, parse_birth_date, parse_country

GENDER = {"F": "female", "M": "male"}


def person_of(row: dict) -> Person:
    """A Person as a node would hold this generated record (birth date in ISO when the full
    date is known, else the year)."""
    try:
        born = parse_birth_date(row["birth_date"])
    except UnreadableValue:
        born = None
    try:
        citizenship = parse_country(row["citizenship"])
    except UnreadableValue:
        citizenship = None
    full = born is not None and born.month is not None and born.day is not None
    return Person(given_name=row["given_name"], family_name=row["family_name"],
                  birth_date=born.isoformat() if full else "",
                  birth_year=born.year if born else None,
                  gender=GENDER.get(row["sex"], "unknown"),
                  citizenships=[citizenship] if citizenship else [])


class Command(BaseCommand):
    help = __doc__.split("\n\n")[0]

    def add_arguments(self, parser):
        parser.add_argument("--country", required=True, help="this node's country")
        parser.add_argument("--countries", required=True,
                            help="every country of the test network, comma-separated")
        parser.add_argument("--persons", type=int, required=True,
                            help="persons generated for the whole network")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--duplicated", type=float, default=DUPLICATED)
        parser.add_argument("--truth", type=Path,
                            help="write {person global id: generated person id} here")

    def handle(self, *args, country, countries, persons, seed, duplicated, truth, **options):
        countries = [code.strip().upper() for code in countries.split(",") if code.strip()]
        country = country.upper()
        if country not in countries:
            raise CommandError(f"{country} is not among {', '.join(countries)}")
        rows = network_register(persons, seed, countries, duplicated)[country]
        made = [person_of(row) for row in rows]
        Person.objects.bulk_create(made, batch_size=2000)
        if truth:
            Path(truth).write_text(json.dumps({str(person.global_id): row["person_id"]
                                         for person, row in zip(made, rows, strict=True)}),
                             encoding="utf-8")
        self.stdout.write(f"{len(made)} persons created in {country}")
