"""One index per query shape: the foreign keys and fields below had a second index that a composite or pattern
index already serves, and every extra index is written on each insert (an import writes millions of rows)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('clients', '0004_trigram_search'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.AlterField(
            model_name='contact',
            name='company',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='contacts', to='clients.company'),
        ),
        migrations.AlterField(
            model_name='contact',
            name='search_key',
            field=models.CharField(editable=False, max_length=500),
        ),
        migrations.AlterField(
            model_name='contactemail',
            name='email_key',
            field=models.CharField(editable=False, help_text='casefolded', max_length=254),
        ),
        migrations.AlterField(
            model_name='contactphone',
            name='number',
            field=models.CharField(help_text='E.164', max_length=20),
        ),
        migrations.AlterField(
            model_name='timelineevent',
            name='company',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='clients.company'),
        ),
        migrations.AlterField(
            model_name='timelineevent',
            name='contact',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='clients.contact'),
        ),
        migrations.AlterField(
            model_name='timelineevent',
            name='source_type',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='contenttypes.contenttype'),
        ),
        migrations.AddIndex(
            model_name='contactemail',
            index=models.Index(fields=['email_key'], name='contactemail_key_idx', opclasses=['varchar_pattern_ops']),
        ),
        migrations.AddIndex(
            model_name='contactphone',
            index=models.Index(fields=['number'], name='contactphone_number_idx'),
        ),
    ]
