"""Changing records set-based: what `core.records.update` does to one record, done in memory to many, then
written together (the changed columns with one version step, the search key, an audit entry each).
Used by the company and lead imports for rows that name a record by the job's key."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib.contenttypes.models import ContentType

from krug.core import audit, bulk
from krug.core.models import AuditEntry
from krug.transfer import bulk_contacts
from krug.transfer.bulk_contacts import FAILED, Row


def apply(record, fields: dict[str, Any]) -> dict[str, list]:
    """Set `fields` on the record in memory; the audit diff `records.update` would record ({} for none)."""
    before = audit.snapshot(record, record.audited_fields)
    for name, value in fields.items():
        setattr(record, name, value)
    return audit.diff(before, audit.snapshot(record, record.audited_fields))


def external_ids(rows: list[Row]) -> dict[str, int]:
    """The external id each written row gives, to the record it created or changed (`related["pk"]`): in file
    order, so a later row giving the same id takes it, as on the per-row path."""
    return {row.external_id: row.related["pk"] for row in rows
            if row.external_id and row.outcome and row.outcome != FAILED}


def write(model, changed: list[tuple[Any, dict[str, list]]], by, now) -> list[dict]:
    """Write the records `apply` changed: a record with a diff gets its changed columns, its search key, a
    version step and who changed it when, and an audit entry; one without only its search key (as the
    services always re-key). Returns the audit entries' rows, for the caller's history."""
    content_type = ContentType.objects.get_for_model(model)
    grouped: dict[tuple[tuple[str, ...], bool], list[list]] = defaultdict(list)
    entries = []
    for record, diff in changed:
        columns = tuple(sorted({model._meta.get_field(name).attname for name in diff}))
        if diff:
            record.version += 1
            entries.append(bulk_contacts.audit_row(content_type, record.pk, record, AuditEntry.Action.UPDATE, by.pk,
                                                audit.plain(diff), now))
        grouped[columns, bool(diff)].append([*(getattr(record, c) for c in columns), record.search_key,
                                             *((record.version, now, by.pk) if diff else ()), record.pk])
    for (columns, stamped), values in grouped.items():
        bulk.update(model, [*columns, "search_key", *(("version", "updated_at", "updated_by_id") if stamped else ())],
                    values)
    return entries
