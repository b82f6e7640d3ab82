"""Operations the apps' migrations share."""

from django.db import migrations, models


def deleted_at_unindexed(model_name: str, table: str, index: str) -> migrations.SeparateDatabaseAndState:
    """`deleted_at` without its index of every row (`core.models.binned_index` replaces it): the index is
    dropped by its name. Django's own AlterField would rebuild the whole table on SQLite, a copy of every row of
    a million-contact base for one index."""
    return migrations.SeparateDatabaseAndState(
        state_operations=[migrations.AlterField(model_name=model_name, name="deleted_at",
                                                field=models.DateTimeField(blank=True, null=True))],
        database_operations=[migrations.RunSQL(f'DROP INDEX IF EXISTS "{index}"',
                                               reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("deleted_at")')])
