import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('services', '0003_formal_identification_service_type'),
    ]

    operations = [
        migrations.CreateModel(
            name='HsdsRecord',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('table', models.CharField(help_text='The HSDS 3.0 resource name', max_length=40)),
                ('row_id', models.CharField(help_text="The row's HSDS id", max_length=64)),
                ('values', models.JSONField(default=dict, help_text='The row as read: column → text')),
                ('provider', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='hsds_records', to='services.provider')),
                ('service', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='hsds_records', to='services.service')),
            ],
            options={
                'ordering': ['id'],
                'constraints': [models.UniqueConstraint(fields=('table', 'row_id'), name='hsds_record_table_row')],
            },
        ),
    ]
