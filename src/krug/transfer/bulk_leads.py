"""The set-based path for leads: a chunk's new leads are cleaned as `create_lead` cleans them and written with a
handful of statements (COPY on PostgreSQL), with their search keys, audit entries and external ids.

It gives what the per-row path (`importer.import_row`) gives, which the tests compare it with. A row that
names a lead in the base by the job's key (external id, e-mail or phone) changes it as `update_lead` does, in
memory, and the chunk writes the changes together (`bulk_changes`); a row naming a lead an earlier row of
the chunk created or changed goes through the per-row path in its turn, after the rows before it are
written.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models.functions import Lower
from django.utils import timezone

from krug.clients import services as clients
from krug.clients.models import Lead
from krug.core import audit, bulk, memo
from krug.core.errors import DomainError, ValidationFailed
from krug.core.models import AuditEntry
from krug.quality import normalize
from krug.transfer import bulk_changes, bulk_contacts, importer
from krug.transfer.bulk_contacts import CREATED, SKIPPED, Row, batches

ENTITY = "leads"


def import_chunk(ctx, chunk: list[tuple[int, list[str]]]) -> list[Row]:
    """Import a chunk of lead rows; returns them with their outcomes. The caller's transaction holds it."""
    with memo.scope():
        rows = bulk_contacts.prepare(ctx, chunk)
        values = {id(r): _key_value(ctx.job.key, r) for r in rows if not r.outcome}
        targets = _targets(ctx, sorted({v for v in values.values() if v}))
        named = set(targets)
        yours = bulk_contacts.changeable(Lead, ctx.job.by, {lead.pk for lead in targets.values()})
        touched: set[int] = set()  # leads a row of this chunk named: a later row naming one takes the per-row path
        waiting: list[Row] = []
        for row in rows:
            if row.outcome:
                continue
            value = values[id(row)]
            if value and value in named:  # "" never names one: _stored_value may add it
                lead = targets.get(value)
                if lead is not None and lead.pk in yours and lead.pk not in touched:
                    touched.add(lead.pk)
                    row.related["lead"] = lead  # changed, or skipped, with the rows before and after it
                    waiting.append(row)
                    continue
                _create(ctx, waiting)
                waiting = []
                row.outcome, row.errors, record = importer.import_one(ctx, row.cells)
                touched.add(record or 0)
                continue
            importer.lead_defaults(row.data)
            try:
                row.fields = clients._clean_lead(ctx.job.by, row.data, current=None)
            except ValidationFailed as exc:
                row.fail(exc)
                continue
            waiting.append(row)
            named.add(_stored_value(ctx.job.key, row))  # a later row naming it updates this lead
        _create(ctx, waiting)
    return rows


def _key_value(key: str, row: Row) -> str:
    """The value of the job's key a row names a lead by, as `importer._find_lead` compares it ("" for none)."""
    if key == "external_id":
        return row.external_id
    if key == "email":
        return (row.data.get("email") or "").strip().casefold()
    if key == "phone" and row.data.get("phone"):
        try:
            return normalize.phone(row.data["phone"])[0]
        except ValueError:
            return ""
    return ""


def _stored_value(key: str, row: Row) -> str:
    """The value of the job's key a new lead will hold, as a later row's `_key_value` would name it."""
    if key == "external_id":
        return row.external_id
    if key == "email":
        return (row.fields.get("email") or "").casefold()
    if key == "phone":
        return row.fields.get("phone") or ""
    return ""


def _targets(ctx, values: list[str]) -> dict[str, Lead]:
    """The leads in the base the key values name, as the per-row path finds them: live, the user's to see but
    for external ids, the first by id."""
    key, found = ctx.job.key, {}
    if key == "external_id":
        return bulk_contacts.named_by_external_id(ENTITY, Lead, values)
    visible = Lead.objects.visible_to(ctx.job.by)
    for batch in batches(values):
        if key in ("email", "phone"):
            leads = visible.annotate(key=Lower("email")).filter(key__in=batch) if key == "email" else \
                visible.filter(phone__in=batch)
            for lead in leads.order_by("pk"):
                found.setdefault(lead.email.strip().casefold() if key == "email" else lead.phone, lead)
    return found


def _create(ctx, rows: list[Row]) -> None:
    """Write the rows: new leads, as `create_lead` writes them, and the changes of the leads the others name,
    as `importer._import_lead` makes them (`update_lead`)."""
    if not rows:
        return
    by, now = ctx.job.by, timezone.now()
    changed = []
    for row in [r for r in rows if "lead" in r.related]:
        lead, data = row.related["lead"], dict(row.data)
        data.pop("created_at", None)  # a new lead's only (`importer._import_lead`)
        importer.lead_defaults(data)
        changes = importer.changed_values(lead, data, leaving=("source",))
        row.related["pk"] = lead.pk
        if not changes:  # what the per-row path finds too, without its queries (its external id still moves)
            row.outcome = SKIPPED
            continue
        try:
            fields = clients.lead_update_fields(by, lead, changes)
        except DomainError as exc:
            row.fail(exc)
            continue
        diff = bulk_changes.apply(lead, fields)
        lead.search_key = clients._lead_key(lead)
        changed.append((lead, diff))
        row.outcome = bulk_contacts.UPDATED
    written = rows
    rows = [r for r in rows if "lead" not in r.related]
    leads, entries = [], []
    lead_type = ContentType.objects.get_for_model(Lead)
    for row, pk in zip(rows, bulk.take_ids(Lead, len(rows)), strict=True):
        lead = Lead(pk=pk, **row.fields, created_by=by, updated_by=by, created_at=row.data.get("created_at") or now,
                    updated_at=now)
        lead.search_key = clients._lead_key(lead)
        leads.append({f.attname: getattr(lead, f.attname) for f in Lead._meta.concrete_fields})
        changes = {k: [None, v] for k, v in audit.snapshot(lead, Lead.audited_fields).items()
                   if v not in (None, "", [], {})}
        entries.append(bulk_contacts.audit_row(lead_type, pk, lead, AuditEntry.Action.CREATE, by.pk, changes, now))
        row.related["pk"] = pk
        row.outcome = CREATED
    external = bulk_changes.external_ids(written)
    bulk.insert(Lead, leads, with_ids=True)
    entries += bulk_changes.write(Lead, changed, by, now)
    bulk_contacts.write_history(entries, [])
    bulk_contacts.external_keys(external, ENTITY)
