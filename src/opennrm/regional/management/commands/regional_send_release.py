"""Publish a statistics release and send it to partner nodes (`regional.services
.send_release`), in the name of a national coordinator: the command-line twin of the page
/regional/send/."""

from django.core.management.base import BaseCommand, CommandError

from opennrm.accounts.models import User
from opennrm.regional import services
from opennrm.statistics import releases
from opennrm.statistics.periods import PeriodError, parse_period
from opennrm.transnational.services import ChannelError, find_partner


class Command(BaseCommand):
    help = __doc__.split("\n\n")[0]

    def add_arguments(self, parser):
        parser.add_argument("--as", dest="username", required=True)
        parser.add_argument("--table-set", default="eurostat")
        parser.add_argument("--period", required=True)
        parser.add_argument("--partners", required=True,
                            help="partner countries or node ids, comma-separated")
        parser.add_argument("--threshold", type=int)
        parser.add_argument("--rounding", type=int)
        parser.add_argument("--epsilon", type=float)

    def handle(self, *args, username, table_set, period, partners, threshold, rounding,
               epsilon, **options):
        try:
            user = User.objects.get(username=username)
            start, end = parse_period(period)
            chosen = [find_partner(text.strip()) for text in partners.split(",") if text.strip()]
            controls = releases.policy_controls(threshold, rounding, epsilon)
            sending = services.send_release(user, chosen, table_set, start, end, controls,
                                            channel="cli")
        except (User.DoesNotExist, PeriodError, ChannelError, releases.ReleaseError,
                services.RegionalError) as error:
            raise CommandError(str(error) or "no such user") from error
        self.stdout.write(f"release {sending.release.pk} sent to "
                          f"{', '.join(s.partner.country for s in sending.sent)}")
