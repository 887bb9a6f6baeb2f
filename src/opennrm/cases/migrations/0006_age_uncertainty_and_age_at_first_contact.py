from django.db import migrations, models


class Migration(migrations.Migration):
    """The uncertain-age choices (possibly a child / adult, exact age unknown) beside the
    former yes/no field, and the age at first contact on the case. 0007 fills them in,
    0008 removes the yes/no field: PostgreSQL does not alter a table in the transaction
    that updated its rows."""

    dependencies = [
        ('cases', '0005_case_list_child_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='person',
            name='age_uncertainty',
            field=models.CharField(blank=True, choices=[('possibly_child', 'Possibly a child (presumed a child)'), ('adult', 'Adult, exact age unknown')], max_length=20),
        ),
        migrations.AddField(
            model_name='case',
            name='age_at_first_contact',
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
    ]
