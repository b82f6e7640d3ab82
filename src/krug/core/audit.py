"""The audit trail: services call `record` for every create/update/delete/restore/purge/merge."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from krug.core.models import AuditEntry


def plain(value: Any) -> Any:
    """A JSON-safe form of a field value, as shown in history."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (list, tuple, set)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def snapshot(obj: models.Model, fields: tuple[str, ...]) -> dict[str, Any]:
    """Current values of `fields`, foreign keys as ids."""
    out = {}
    for name in fields:
        field = obj._meta.get_field(name)
        out[name] = plain(getattr(obj, field.attname))
    return out


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields whose value changed."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def record(action: str, obj: models.Model, by, changes: dict | None = None) -> AuditEntry:
    return AuditEntry.objects.create(
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=obj.pk,
        object_repr=str(obj)[:300],
        action=action,
        user=by if getattr(by, "pk", None) else None,
        changes=plain(changes or {}),
    )


def history(obj: models.Model):
    """The audit entries of one record, newest first."""
    ct = ContentType.objects.get_for_model(type(obj))
    return AuditEntry.objects.filter(content_type=ct, object_id=obj.pk).select_related("user").order_by("-id")
