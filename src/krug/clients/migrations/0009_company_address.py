"""A company's address (what Bitrix24 and amoCRM export as «Адрес»), searched with its name, INN and city: the
search key grows to hold it."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('clients', '0008_contact_search_key_without_emails'),
    ]

    operations = [
        migrations.AddField(
            model_name='company',
            name='address',
            field=models.CharField(blank=True, max_length=500, verbose_name='address'),
        ),
        migrations.AlterField(
            model_name='company',
            name='search_key',
            field=models.CharField(db_index=True, editable=False, max_length=1000),
        ),
    ]
