"""Create or update providers and services from an Open Referral HSDS 3.0 package."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from opennrm.accounts.models import User
from opennrm.services import hsds
from opennrm.services.access import DirectoryAccessDenied


def summary_lines(summary) -> list[str]:
    """The import's counts and what it did not keep, one line each."""
    lines = [f"Providers: {summary.providers_created} created, {summary.providers_updated} "
             f"updated. Services: {summary.services_created} created, "
             f"{summary.services_updated} updated."]
    if summary.rows_kept:
        lines.append("Other HSDS rows kept: " + ", ".join(
            f"{table} {count}" for table, count in summary.rows_kept.items()) + ".")
    for item in summary.not_kept:
        where = f"{item.file}, {item.column}" if item.column else item.file
        lines.append(f"{where}: {item.count} not kept ({item.reason}).")
    return lines


class Command(BaseCommand):
    help = ("Import an HSDS 3.0 tabular data package (a zip, or a folder with datapackage.json "
            "and the CSV files) into the service directory. Entries are matched by their HSDS "
            "id; the whole package is checked first and nothing is written if any row is "
            "wrong. What is not kept is listed.")

    def add_arguments(self, parser):
        parser.add_argument("path", help="The zip file or folder to read")
        parser.add_argument("--as", dest="username", required=True,
                            help="A directory manager (national coordinator or administrator)")
        parser.add_argument("--country", default="",
                            help="Country (ISO 3166-1 alpha-2) of entries whose files give none "
                                 "(default: the node's, OPENNRM_COUNTRY)")
        parser.add_argument("--organisation-type", default="",
                            help="Organisation type (agency_types) of organisations that have "
                                 "none and match no rule of the mapping file")
        parser.add_argument("--service-type", default="",
                            help="Service type (service_types) of services that have none and "
                                 "match no rule of the mapping file")
        parser.add_argument("--mapping", default=None,
                            help="A mapping file instead of the node's (services/mappings/"
                                 "hsds.json)")

    def handle(self, *args, path: str, username: str, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {username!r}")
        import_options = hsds.ImportOptions(
            country=options["country"], organisation_type=options["organisation_type"],
            service_type=options["service_type"], mapping=options["mapping"])
        try:
            summary = hsds.import_directory(user, path, channel="cli", options=import_options)
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror}") from error
        except DirectoryAccessDenied as denied:
            raise CommandError(str(denied)) from denied
        except ValidationError as invalid:
            raise CommandError("nothing was imported:\n" + "\n".join(invalid.messages)) \
                from invalid
        self.stdout.write("\n".join(summary_lines(summary)))
