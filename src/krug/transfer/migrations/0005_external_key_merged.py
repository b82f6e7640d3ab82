from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('transfer', '0004_import_values'),
    ]

    operations = [
        migrations.AddField(
            model_name='externalkey',
            name='merged',
            field=models.BooleanField(default=False),
        ),
    ]
