"""Create or update providers and services from an Open Referral HSDS 3.0 zip."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from opennrm.accounts.models import User
from opennrm.services import hsds
from opennrm.services.access import DirectoryAccessDenied


class Command(BaseCommand):
    help = ("Import an HSDS 3.0 tabular data package (zip) into the service directory. "
            "Entries are matched by their HSDS id; the whole file is checked first and "
            "nothing is written if any row is wrong.")

    def add_arguments(self, parser):
        parser.add_argument("path", help="The zip file to read")
        parser.add_argument("--as", dest="username", required=True,
                            help="A directory manager (national coordinator or administrator)")

    def handle(self, *args, path: str, username: str, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {username!r}")
        try:
            with open(path, "rb") as upload:
                summary = hsds.import_directory(user, upload, channel="cli")
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror}") from error
        except DirectoryAccessDenied as denied:
            raise CommandError(str(denied)) from denied
        except ValidationError as invalid:
            raise CommandError("nothing was imported:\n" + "\n".join(invalid.messages)) \
                from invalid
        self.stdout.write(
            f"Providers: {summary.providers_created} created, {summary.providers_updated} "
            f"updated. Services: {summary.services_created} created, "
            f"{summary.services_updated} updated.")
