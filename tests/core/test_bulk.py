"""core.bulk writes what the ORM would: JSON values come back as they went in, on SQLite and PostgreSQL."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from krug.clients.models import Contact
from krug.core import bulk
from krug.core.models import AuditEntry

VALUES = [{}, {"surname": [None, "Ёлкина \\ \"Таб\tи\nстрока\""]}, [], ["a", 1, 2.5, True, None],
          {"nested": {"list": [{}, []], "emoji": "🙂"}}, "text", 0, {"past 64 bits": 2**70}]


@pytest.mark.django_db
def test_json_values_written_in_bulk_read_back_the_same():
    content_type = ContentType.objects.get_for_model(Contact)
    rows = [{"content_type_id": content_type.pk, "object_id": n, "object_repr": f"#{n}", "action": "create",
             "user_id": None, "changes": value, "at": timezone.now()} for n, value in enumerate(VALUES)]
    assert bulk.insert(AuditEntry, rows) == len(VALUES)
    stored = dict(AuditEntry.objects.filter(object_repr__startswith="#").values_list("object_id", "changes"))
    assert [stored[n] for n in range(len(VALUES))] == VALUES


@pytest.mark.django_db
def test_rows_without_some_columns_get_their_defaults_and_a_missing_required_value_is_named():
    content_type = ContentType.objects.get_for_model(Contact)
    full = {"content_type_id": content_type.pk, "object_id": 1, "object_repr": "full", "action": "create",
            "user_id": None, "changes": {"a": [None, 1]}, "at": timezone.now()}
    partial = {"content_type_id": content_type.pk, "object_id": 2, "action": "update"}  # repr, user, at, changes
    assert bulk.insert(AuditEntry, [full, partial, full | {"object_id": 3}]) == 3
    stored = {e.object_id: e for e in AuditEntry.objects.filter(object_id__in=[1, 2, 3])}
    assert stored[2].object_repr == "" and stored[2].changes == {} and stored[2].user_id is None
    assert stored[2].at is not None and stored[3].changes == {"a": [None, 1]}
    with pytest.raises(ValueError, match="AuditEntry.object_id needs a value"):
        bulk.insert(AuditEntry, [{"content_type_id": content_type.pk, "action": "create"}])
