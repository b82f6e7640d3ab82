"""`deleted_at` is indexed only where it is set (`core.models.binned_index`): the index of every row's null is
gone on both databases (it was dropped by name, so a wrong name would leave it silently), and SQLite's planner,
without statistics, no longer walks a whole table by `deleted_at IS NULL` when a permission check has it."""

from django.apps import apps
from django.db import connection
from django.db.models import Q

from krug.clients.filters import key_starts
from krug.clients.models import Contact
from krug.core.models import TrackedModel
from tests.plans import sqlite_plan

BINNED = {"clients_company": "company_binned_idx", "clients_contact": "contact_binned_idx",
          "clients_lead": "lead_binned_idx", "sales_deal": "deal_binned_idx", "activities_call": "call_binned_idx",
          "activities_meeting": "meeting_binned_idx", "activities_note": "note_binned_idx",
          "activities_task": "task_binned_idx"}


def test_deleted_at_has_no_index_but_the_bins(db):
    tracked = [m for m in apps.get_models() if issubclass(m, TrackedModel)]
    assert {m._meta.db_table for m in tracked} >= set(BINNED)
    with connection.cursor() as cursor:
        for model in tracked:
            table = model._meta.db_table
            found = connection.introspection.get_constraints(cursor, table)
            on_deleted = sorted(name for name, c in found.items() if c["index"] and c["columns"] == ["deleted_at"])
            assert on_deleted == ([BINNED[table]] if table in BINNED else []), table


def _plan(user) -> str:
    wanted = Q()
    for n in range(300):
        wanted |= key_starts("search_key", f"иванов{n} иван")
    return sqlite_plan(Contact.objects.visible_to(user).filter(wanted).values_list("pk"))


def test_sqlite_finds_names_by_their_key_not_by_deleted_at(org):
    if connection.vendor != "sqlite":
        return
    plan = _plan(org.admin)  # who sees everything: the keys' ranges are the only way in
    assert "contact_search_start_idx" in plan and "deleted_at" not in plan, plan
    plan = _plan(org.manager)  # his own and those shared with him, then the names among them
    assert "contact_owner_idx" in plan and "deleted_at" not in plan, plan
