import getpass

from django.contrib.auth.models import AnonymousUser
from django.core.management.base import BaseCommand

from opennrm.cases.person_search import reindex_persons


class Command(BaseCommand):
    help = ("Rebuild the person search's index of names and birth dates from the encrypted "
            "fields (after an upgrade that adds or changes it). Decrypts every person once; "
            "recorded in the audit trail.")

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size: int, **options):
        operator = AnonymousUser()
        operator.username = f"cli:{getpass.getuser()}"
        count = reindex_persons(operator, "cli", batch_size=batch_size,
                                progress=lambda done: self.stdout.write(
                                    f"{done} persons indexed", ending="\r"))
        self.stdout.write(f"{count} persons indexed.")
