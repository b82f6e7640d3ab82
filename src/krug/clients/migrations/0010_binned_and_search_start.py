"""Two indexes for SQLite's planner and the import's writes:
- a b-tree on the contacts' search key, for the lookups by how a key begins (`filters.key_starts`): a deal
  file's contact named by his full name (`transfer.importer.named_contacts`). PostgreSQL's trigram index
  answered a name's beginning slowly: 10,000 deals naming their contact among 100,000 contacts took 62 s
  (`bench transfer`, session 23). The pattern operator class lets PostgreSQL's LIKE 'start%' use it whatever
  the database's collation; SQLite takes a plain index and is asked for a range of keys.
- `deleted_at` indexed only where it is set (`core.models.binned_index`; sales 0004 and activities 0005 do the
  same for their tables)."""

from django.conf import settings
from django.db import migrations, models

from krug.core.migration_ops import deleted_at_unindexed


class Migration(migrations.Migration):

    dependencies = [
        ('clients', '0009_company_address'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        deleted_at_unindexed('company', 'clients_company', 'clients_company_deleted_at_809c5cdf'),
        deleted_at_unindexed('contact', 'clients_contact', 'clients_contact_deleted_at_41863217'),
        deleted_at_unindexed('lead', 'clients_lead', 'clients_lead_deleted_at_c9f64d0e'),
        migrations.AddIndex(
            model_name='company',
            index=models.Index(condition=models.Q(('deleted_at__isnull', False)), fields=['-deleted_at'], name='company_binned_idx'),
        ),
        migrations.AddIndex(
            model_name='contact',
            index=models.Index(fields=['search_key'], name='contact_search_start_idx', opclasses=['varchar_pattern_ops']),
        ),
        migrations.AddIndex(
            model_name='contact',
            index=models.Index(condition=models.Q(('deleted_at__isnull', False)), fields=['-deleted_at'], name='contact_binned_idx'),
        ),
        migrations.AddIndex(
            model_name='lead',
            index=models.Index(condition=models.Q(('deleted_at__isnull', False)), fields=['-deleted_at'], name='lead_binned_idx'),
        ),
    ]
