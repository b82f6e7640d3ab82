"""core.bulk writes what the ORM would: JSON values come back as they went in, on SQLite and PostgreSQL."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from krug.clients.models import Contact
from krug.core import bulk
from krug.core.models import AuditEntry

VALUES = [{}, {"surname": [None, "Ёлкина \\ \"Таб\tи\nстрока\""]}, [], ["a", 1, 2.5, True, None],
          {"nested": {"list": [{}, []], "emoji": "🙂"}}, "text", 0]


@pytest.mark.django_db
def test_json_values_written_in_bulk_read_back_the_same():
    content_type = ContentType.objects.get_for_model(Contact)
    rows = [{"content_type_id": content_type.pk, "object_id": n, "object_repr": f"#{n}", "action": "create",
             "user_id": None, "changes": value, "at": timezone.now()} for n, value in enumerate(VALUES)]
    assert bulk.insert(AuditEntry, rows) == len(VALUES)
    stored = dict(AuditEntry.objects.filter(object_repr__startswith="#").values_list("object_id", "changes"))
    assert [stored[n] for n in range(len(VALUES))] == VALUES
