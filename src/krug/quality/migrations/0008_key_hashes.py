"""Blocking keys move from text rows with a surrogate id (quality_matchkey) to 64-bit hashes keyed by
(hash, record), one table per kind of record: a third of the space and of the writes."""

from hashlib import blake2b

from django.db import migrations, models


def _hash(key: str) -> int:
    # duplicates.key_hash as of this migration: the stored format
    return int.from_bytes(blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


def copy_keys(apps, schema_editor):
    old = apps.get_model("quality", "MatchKey")
    targets = {"contact": apps.get_model("quality", "ContactKey"), "company": apps.get_model("quality", "CompanyKey")}
    for entity, model in targets.items():
        batch = []
        for record_id, key in old.objects.filter(entity=entity).values_list("record_id", "key").iterator(20_000):
            batch.append(model(hash=_hash(key), record_id=record_id))
            if len(batch) == 20_000:
                model.objects.bulk_create(batch, ignore_conflicts=True)
                batch = []
        model.objects.bulk_create(batch, ignore_conflicts=True)


class Migration(migrations.Migration):

    dependencies = [
        ('quality', '0007_invalid_phones_and_nightly_scans'),
    ]

    operations = [
        migrations.CreateModel(
            name='CompanyKey',
            fields=[
                ('pk', models.CompositePrimaryKey('hash', 'record_id', blank=True, editable=False, primary_key=True, serialize=False)),
                ('hash', models.BigIntegerField()),
                ('record_id', models.BigIntegerField()),
            ],
        ),
        migrations.CreateModel(
            name='ContactKey',
            fields=[
                ('pk', models.CompositePrimaryKey('hash', 'record_id', blank=True, editable=False, primary_key=True, serialize=False)),
                ('hash', models.BigIntegerField()),
                ('record_id', models.BigIntegerField()),
            ],
        ),
        migrations.AddIndex(
            model_name='companykey',
            index=models.Index(fields=['record_id'], name='companykey_record_idx'),
        ),
        migrations.AddIndex(
            model_name='contactkey',
            index=models.Index(fields=['record_id'], name='contactkey_record_idx'),
        ),
        migrations.RunPython(copy_keys),  # irreversible: a hash does not give its key back
        migrations.DeleteModel(
            name='MatchKey',
        ),
    ]
