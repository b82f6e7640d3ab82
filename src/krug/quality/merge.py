"""Merging duplicate contacts or companies into one survivor, field by field, and undoing it.

Everything that pointed at a merged record (deals, activities, leads, timeline entries, a company's
people, phones and e-mails) moves to the survivor; repeated phones and e-mails are dropped; tags are
united; the merged records go to the recycle bin. The Merge row keeps what is needed to put it all back.
Relations are found through Django's model meta, so an app added later is moved along without changes
here. All or nothing: a merge that fails midway changes nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from krug.core import audit, permissions, records
from krug.core.errors import Conflict, ValidationFailed
from krug.core.models import AuditEntry
from krug.quality import duplicates
from krug.quality.models import Merge

#: fields a user may take from any of the merged records; the rest follow the survivor
CONTACT_FIELDS = ("surname", "first_name", "patronymic", "position", "company", "birthday", "city", "source",
                  "client_type", "consent_at", "owner")
COMPANY_FIELDS = ("name", "legal_form", "inn", "kpp", "ogrn", "industry", "size", "region", "city", "address",
                  "website", "phone", "email", "founded", "description", "owner")
#: related rows that are de-duplicated after moving, by these fields
REPEATS = {"clients.contactphone": ("number", "extension"), "clients.contactemail": ("email_key",)}
SKIP_ON_SNAPSHOT = {"id", "created_at", "created_by"}


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _snapshot(obj) -> dict:
    return {f.attname: _plain(getattr(obj, f.attname)) for f in obj._meta.concrete_fields
            if f.name not in SKIP_ON_SNAPSHOT}


def _incoming_relations(model):
    """(related model, fk field name) for every foreign key pointing at `model`, hidden ones included."""
    for rel in model._meta.get_fields(include_hidden=True):
        if rel.auto_created and (rel.one_to_many or rel.one_to_one) and rel.related_model is not model \
                and not rel.related_model._meta.auto_created:  # tag links are united separately
            yield rel.related_model, rel.field.name


def _choose(field: str, survivor, others: list, chosen_id: int | None, by_id: dict):
    """The value the survivor keeps: the chosen record's, else its own, else the first merged one's."""
    name = survivor._meta.get_field(field).attname
    if chosen_id is not None:
        return getattr(by_id[chosen_id], name)
    value = getattr(survivor, name)
    if value in (None, ""):
        value = next((getattr(o, name) for o in others if getattr(o, name) not in (None, "")), value)
    return value


def _load(by, model, survivor_id: int, merged_ids: list[int]):
    ids = [survivor_id, *merged_ids]
    if len(set(ids)) != len(ids) or not merged_ids:
        raise ValidationFailed.single("merged_ids", _("name at least one other record, each once, not the survivor"))
    loaded = [records.get_for(by, model, pk, permissions.CHANGE) for pk in ids]
    return loaded[0], loaded[1:]


def _move_related(model, survivor, others) -> tuple[list, list]:
    moved, dropped = [], []
    for related, field in _incoming_relations(model):
        label = related._meta.label_lower
        for other in others:
            ids = list(related._base_manager.filter(**{field: other.pk}).values_list("pk", flat=True))
            if ids:
                related._base_manager.filter(pk__in=ids).update(**{field: survivor.pk})
                moved.append([label, field, ids, other.pk])
        if label in REPEATS:
            came_from = {pk: from_id for lbl, _f, ids, from_id in moved if lbl == label for pk in ids}
            dropped += _drop_repeats(related, field, survivor, REPEATS[label], came_from)
    return moved, dropped


def _drop_repeats(related, field: str, survivor, identity: tuple[str, ...], came_from: dict[int, int]) -> list:
    """Delete the survivor's repeated rows (a phone both records had), remembering whose they were."""
    seen, dropped = set(), []
    for row in related._base_manager.filter(**{field: survivor.pk}).order_by("position", "id"):
        key = tuple(getattr(row, name) for name in identity)
        if key in seen:
            data = {f.attname: _plain(getattr(row, f.attname)) for f in related._meta.concrete_fields
                    if f.name != "id"}
            data[related._meta.get_field(field).attname] = came_from.get(row.pk, survivor.pk)
            dropped.append([related._meta.label_lower, data])
            row.delete()
        else:
            seen.add(key)
    return dropped


@transaction.atomic
def merge(by, model, survivor_id: int, merged_ids: list[int], fields: dict[str, int] | None = None,
          *, automatic: bool = False) -> Merge:
    """Merge `merged_ids` into `survivor_id`; `fields` = {field: id of the record whose value wins}."""
    from krug.clients import services as clients
    from krug.clients import timeline
    from krug.clients.models import Contact, TimelineEvent

    survivor, others = _load(by, model, survivor_id, merged_ids)
    entity = duplicates.CONTACT if model is Contact else duplicates.COMPANY
    allowed = CONTACT_FIELDS if model is Contact else COMPANY_FIELDS
    by_id = {o.pk: o for o in (survivor, *others)}
    fields = fields or {}
    for name, chosen in fields.items():
        if name not in allowed:
            raise ValidationFailed.single(f"fields.{name}", _("cannot be chosen; one of %(f)s") % {
                "f": ", ".join(allowed)})
        if chosen not in by_id:
            raise ValidationFailed.single(f"fields.{name}", _("must be the id of one of the merged records"))
    record = Merge(entity=entity, survivor_id=survivor.pk, merged_ids=merged_ids, survivor_before=_snapshot(survivor),
                   by=by if getattr(by, "pk", None) else None, automatic=automatic)
    values = {model._meta.get_field(n).attname: _choose(n, survivor, others, fields.get(n), by_id) for n in allowed}
    values["custom"] = {k: v for o in reversed([survivor, *others]) for k, v in (o.custom or {}).items()}
    if model is Contact:
        values["opt_out"] = any(o.opt_out for o in (survivor, *others))  # an opt-out is never lost
        values["last_contact_at"] = max((o.last_contact_at for o in (survivor, *others) if o.last_contact_at),
                                        default=None)
        values["job_title"] = by_id[fields["position"]].job_title if "position" in fields else survivor.job_title
        before_tags = set(survivor.tags.values_list("pk", flat=True))
        all_tags = set(Contact.tags.through.objects.filter(contact_id__in=[o.pk for o in (survivor, *others)])
                       .values_list("tag_id", flat=True))
        survivor.tags.add(*(all_tags - before_tags))
        record.tags_added = sorted(all_tags - before_tags)
    record.moved, record.dropped = _move_related(model, survivor, others)
    model.objects.filter(pk=survivor.pk).update(**values, version=F("version") + 1, updated_at=timezone.now(),
                                                updated_by=by)
    survivor.refresh_from_db()
    for other in others:
        records.move_to_bin(other, by)
        audit.record(AuditEntry.Action.MERGE, other, by, {"merged_into": [None, survivor.pk]})
    record.save()
    from krug.quality.models import DuplicatePair

    ids = [survivor.pk, *merged_ids]
    DuplicatePair.objects.filter(entity=entity, a_id__in=ids, b_id__in=ids).update(
        status=DuplicatePair.Status.MERGED)
    changes = {k: v for k, v in audit.diff(record.survivor_before, _snapshot(survivor)).items()
               if k not in ("version", "updated_at", "updated_by_id", "search_key")}
    audit.record(AuditEntry.Action.MERGE, survivor, by, {**changes, "merged": [None, merged_ids],
                                                          "merge_id": [None, record.pk]})
    _refresh_keys(model, survivor, clients)
    names = ", ".join(str(o) for o in others)
    timeline.add_event(TimelineEvent.Kind.MERGE, survivor, by=by,
                       contact=survivor if model is Contact else None, company=None if model is Contact else survivor,
                       summary=_("Merged into this card: %(names)s") % {"names": names},
                       data={"merged": merged_ids, "merge_id": record.pk})
    return record


def _refresh_keys(model, obj, clients) -> None:
    from krug.clients.models import Contact

    if model is Contact:
        clients._refresh_search_key(obj)
        duplicates.index_contact(obj)
    else:
        model.objects.filter(pk=obj.pk).update(search_key=clients._company_key(obj))
        duplicates.index_companies([obj])
        clients.refresh_people_keys([obj])


@transaction.atomic
def undo(by, record: Merge) -> None:
    """Put a merge back: the survivor's old values, the moved records, the dropped phones and e-mails,
    and the merged records out of the bin."""
    from krug.clients import services as clients
    from krug.clients.models import Company, Contact, TimelineEvent

    if record.undone_at is not None:
        raise Conflict(_("This merge was already undone"))
    model = Contact if record.entity == duplicates.CONTACT else Company
    survivor = records.get_for(by, model, record.survivor_id, permissions.CHANGE)
    merged = list(model.objects.in_bin().filter(pk__in=record.merged_ids))
    if len(merged) != len(record.merged_ids):
        raise Conflict(_("A merged record was purged from the recycle bin; this merge can no longer be undone"))
    for label, field, ids, from_id in record.moved:
        apps.get_model(label)._base_manager.filter(pk__in=ids).update(**{field: from_id})
    for label, data in record.dropped:
        apps.get_model(label)._base_manager.create(**data)
    if record.tags_added:
        survivor.tags.remove(*record.tags_added)
    before = {k: v for k, v in record.survivor_before.items() if k not in ("version", "updated_at", "updated_by_id")}
    model.objects.filter(pk=survivor.pk).update(**before, version=F("version") + 1, updated_at=timezone.now(),
                                                updated_by=by)
    survivor.refresh_from_db()
    for other in merged:
        records.restore(other, by)
        _refresh_keys(model, other, clients)
    _refresh_keys(model, survivor, clients)
    audit.record(AuditEntry.Action.UPDATE, survivor, by, {"merge_undone": [record.pk, None]})
    TimelineEvent.objects.filter(kind=TimelineEvent.Kind.MERGE, data__merge_id=record.pk).update(hidden=True)
    record.undone_at = timezone.now()
    record.save(update_fields=["undone_at"])
