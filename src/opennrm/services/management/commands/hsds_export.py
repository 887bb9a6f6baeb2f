"""Write the service directory as an Open Referral HSDS 3.0 zip."""

from django.core.management.base import BaseCommand, CommandError

from opennrm.accounts.models import User
from opennrm.services import hsds
from opennrm.services.access import DirectoryAccessDenied


class Command(BaseCommand):
    help = ("Export the service directory to PATH as an HSDS 3.0 tabular data package (zip). "
            "The file is written whole or not at all.")

    def add_arguments(self, parser):
        parser.add_argument("path", help="The zip file to write")
        parser.add_argument("--as", dest="username", required=True,
                            help="A directory manager (national coordinator or administrator)")

    def handle(self, *args, path: str, username: str, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {username!r}")
        try:
            count = hsds.export_to_path(user, path, channel="cli")
        except OSError as error:
            raise CommandError(f"cannot write {path}: {error.strerror}") from error
        except DirectoryAccessDenied as denied:
            raise CommandError(str(denied)) from denied
        self.stdout.write(f"Exported {count} services to {path}.")
