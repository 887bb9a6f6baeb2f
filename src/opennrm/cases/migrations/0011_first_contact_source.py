# Where the person was first met and who referred them (issue 17, the register form).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0010_assignment_transfer"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="first_contact_place",
            field=models.CharField(blank=True, max_length=40),
        ),
        migrations.AddField(
            model_name="case",
            name="referral_source",
            field=models.CharField(blank=True, max_length=40),
        ),
    ]
