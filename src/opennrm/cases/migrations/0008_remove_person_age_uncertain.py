from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0007_age_uncertainty_data'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='person',
            name='age_uncertain',
        ),
    ]
