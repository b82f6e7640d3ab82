from django.db import migrations


def load_defaults(apps, schema_editor):
    from krug.quality.titles import default_rows

    TitleSynonym = apps.get_model("quality", "TitleSynonym")
    existing = set(TitleSynonym.objects.values_list("key", flat=True))
    TitleSynonym.objects.bulk_create(TitleSynonym(variant=variant, key=key, title=title)
                                     for variant, key, title in default_rows() if key not in existing)


class Migration(migrations.Migration):
    dependencies = [("quality", "0001_initial")]
    operations = [migrations.RunPython(load_defaults, migrations.RunPython.noop)]
