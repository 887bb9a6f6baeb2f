"""Every API token expires, and a token may be read-only.

Tokens that never expired get the default lifetime (settings.OPENNRM_API_TOKEN_DAYS) from
now, so nothing stops working at the upgrade, yet nothing works for ever.
"""

from datetime import timedelta

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def give_every_token_an_expiry(apps, schema_editor):
    ApiToken = apps.get_model("accounts", "ApiToken")
    expires_at = timezone.now() + timedelta(days=settings.OPENNRM_API_TOKEN_DAYS)
    ApiToken.objects.filter(expires_at__isnull=True).update(expires_at=expires_at)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="read_only",
            field=models.BooleanField(default=False),
        ),
        # The column becomes NOT NULL in 0003, in a transaction of its own: PostgreSQL may
        # refuse to alter a table with rows changed earlier in the same transaction.
        migrations.RunPython(give_every_token_an_expiry, migrations.RunPython.noop),
    ]
