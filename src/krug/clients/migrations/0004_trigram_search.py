"""Substring search (`search_key LIKE '%…%'`, phone digits anywhere in a number) served by trigram GIN indexes
on PostgreSQL: without them global search scans every row (0.7 s at a million contacts). pg_trgm is a trusted
extension since PostgreSQL 13, so the database owner may create it. SQLite keeps its plain indexes."""

from django.db import migrations

INDEXES = [
    ("clients_contact", "search_key", "contact_search_trgm"),
    ("clients_company", "search_key", "company_search_trgm"),
    ("clients_company", "phone", "company_phone_trgm"),
    ("clients_lead", "search_key", "lead_search_trgm"),
    ("clients_lead", "phone", "lead_phone_trgm"),
    ("clients_contactphone", "number", "contactphone_number_trgm"),
    ("sales_deal", "search_key", "deal_search_trgm"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, column, name in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} gin_trgm_ops)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _table, _column, name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("clients", "0003_invalid_phones"), ("sales", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
