"""Contacts' search keys without their e-mails: e-mails are searched by their beginning on their own b-tree
(`clients.filters.email_holders`), and their trigrams made up a third of the contacts' trigram index."""

from django.db import migrations

from krug.quality import normalize


def rekey(apps, schema_editor):
    contact_model = apps.get_model("clients", "Contact")
    sql = f"UPDATE {contact_model._meta.db_table} SET search_key = %s WHERE id = %s"
    last = 0
    with schema_editor.connection.cursor() as cursor:
        while True:
            rows = list(contact_model.objects.filter(pk__gt=last).order_by("pk").values_list(
                "pk", "surname", "first_name", "patronymic", "company__name", "search_key")[:5000])
            if not rows:
                return
            last = rows[-1][0]
            changed = [(key, pk) for pk, surname, first_name, patronymic, company, old in rows
                       if (key := normalize.search_key(surname, first_name, patronymic, company)) != old]
            if changed:
                cursor.executemany(sql, changed)


class Migration(migrations.Migration):

    dependencies = [
        ('clients', '0007_lean_who_indexes'),
    ]

    operations = [
        migrations.RunPython(rekey, migrations.RunPython.noop),
    ]
