from django.core.management.base import BaseCommand

from opennrm.protection.services import expire_residence_permits


class Command(BaseCommand):
    help = "Mark granted residence permits past their expiry date as expired (run daily)."

    def handle(self, *args, **options):
        count = expire_residence_permits()
        self.stdout.write(f"{count} residence permit(s) marked expired.")
