"""Bulk actions on a selection of a client list: assign an owner, add or remove a tag, change a type or status.

Every record goes through its entity's update service, so permissions, normalisation, the audit trail and
the timeline are the same as for a single edit. The whole selection is one transaction: if any record
refuses the change, nothing is written and the error names the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from krug.clients import services
from krug.clients.models import Company, Contact, Lead
from krug.core import permissions
from krug.core.errors import DomainError, NotFound, ValidationFailed

LIMIT = 1000

# entity -> action -> the field of the value it takes
ACTIONS: dict[str, dict[str, str]] = {
    "contacts": {"assign": "owner_id", "add_tag": "tag", "remove_tag": "tag", "set_type": "client_type"},
    "companies": {"assign": "owner_id"},
    "leads": {"assign": "owner_id", "set_status": "status"},
}
MODELS = {"contacts": Contact, "companies": Company, "leads": Lead}
UPDATES = {"contacts": services.update_contact, "companies": services.update_company,
           "leads": services.update_lead}


@dataclass
class BulkResult:
    changed: int
    unchanged: int


def _change_for(action: str, obj, value: Any) -> dict[str, Any] | None:
    """The update data for one record, or None when the record already is as asked."""
    if action == "assign":
        owner_id = int(value) if value not in (None, "") else None
        return None if obj.owner_id == owner_id else {"owner_id": owner_id}
    if action in ("add_tag", "remove_tag"):
        from krug.quality import normalize

        names = [t.name for t in obj.tags.all()]
        keys = {normalize.search_key(n) for n in names}
        key = normalize.search_key(value)
        if action == "add_tag":
            return None if key in keys else {"tags": [*names, value]}
        return {"tags": [n for n in names if normalize.search_key(n) != key]} if key in keys else None
    if action == "set_type":
        return None if obj.client_type == value else {"client_type": value}
    if action == "set_status":
        return None if obj.status == value else {"status": value}
    raise AssertionError(action)


def apply(by, entity: str, ids: list[int], action: str, value: Any) -> BulkResult:
    """Apply one action to the records `ids` of `entity`, all or nothing."""
    if entity not in ACTIONS:
        raise ValidationFailed.single("entity", _("must be one of %(v)s") % {"v": ", ".join(ACTIONS)})
    if action not in ACTIONS[entity]:
        raise ValidationFailed.single("action", _("must be one of %(v)s") % {"v": ", ".join(ACTIONS[entity])})
    field = ACTIONS[entity][action]
    try:
        ids = sorted({int(i) for i in ids})
    except (TypeError, ValueError) as exc:
        raise ValidationFailed.single("ids", _("must be record ids")) from exc
    if not ids:
        raise ValidationFailed.single("ids", _("select at least one record"))
    if len(ids) > LIMIT:
        raise ValidationFailed.single("ids", _("at most %(n)d records at once") % {"n": LIMIT})
    if field == "tag" and not str(value or "").strip():
        raise ValidationFailed.single("tag", _("required"))
    if field == "owner_id" and value not in (None, ""):
        if not str(value).isdigit():
            raise ValidationFailed.single("owner_id", _("must be a user id"))
    model = MODELS[entity]
    found = {obj.pk: obj for obj in permissions.restrict(model.objects.all(), by, permissions.VIEW)
             .filter(pk__in=ids).select_related("owner")}
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(_("not found: %(ids)s") % {"ids": ", ".join(map(str, missing[:20]))})
    update = UPDATES[entity]
    changed = 0
    with transaction.atomic():
        for pk in ids:
            obj = found[pk]
            if not permissions.can(by, permissions.CHANGE, obj):
                raise ValidationFailed.single("ids", _("you may not change %(record)s") % {"record": obj})
            data = _change_for(action, obj, str(value).strip() if field == "tag" else value)
            if data is None:
                continue
            try:
                update(by, obj, data)
            except DomainError as exc:  # name the record that refused, then undo the whole selection
                exc.message = f"{obj}: {exc.message}"
                exc.errors = {key: [f"{obj}: {m}" for m in messages] for key, messages in exc.errors.items()}
                raise
            changed += 1
    return BulkResult(changed=changed, unchanged=len(ids) - changed)
