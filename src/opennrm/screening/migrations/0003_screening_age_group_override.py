import opennrm.core.fields
from django.db import migrations


class Migration(migrations.Migration):
    """The reason a list for the other age group was used (issue 15: the rule belongs to
    the list, and a list that does not fit the person needs a recorded override)."""

    dependencies = [
        ('screening', '0002_statistics_period_indexes'),
    ]

    operations = [
        migrations.AddField(
            model_name='screening',
            name='age_group_override',
            field=opennrm.core.fields.EncryptedTextField(blank=True, default=''),
        ),
    ]
